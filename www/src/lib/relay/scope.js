// What a signed-in user's bus receives from the relay: the events whose
// payload always carries a `userId`, which the relay delivers only to that
// user's connections (and to admin ones). Events without a userId
// (messages, audio, metrics) would reach every user subscribed to them, so
// no user subscribes to them: they still go to the relay, where the remote
// devtools (/devtools, an admin token) see them. Used by the server, which
// signs these patterns into each user's token, and by the page, which
// subscribes to them.
export const USER_EVENTS = ['auth.*', 'conversation.started', 'conversation.ended', 'vocabulary.*', 'subscription.*'];
