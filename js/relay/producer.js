// The refs the client makes (a connection's `newRef`, and a tab's for the
// tab that holds the socket) are `~<producer>-<n>`: a producer id per page
// (or tab) and its publishes numbered in order. They are sent as the
// relay's idempotent producer (`producer` and `seq`, relay/PROTOCOL.md),
// which the relay checks once per producer per batch instead of looking up
// each ref. The ref itself carries them, so an entry of a durable outbox
// sent again by the next page (or another tab) is the same producer and
// seq. Any other ref is sent as it is.
const SEQUENCED = /^~([0-9A-Za-z_.:-]{1,64})-([1-9][0-9]{0,15})$/;

/** A ref for the `n`th publish of `producer`. */
export const sequencedRef = (producer, n) => `~${producer}-${n}`;

/** The `"producer":…,"seq":…,` of a publish frame for a client-made ref, or '' for any other ref. */
export function sequenceFields(ref) {
	const m = typeof ref === 'string' ? SEQUENCED.exec(ref) : null;
	const seq = m ? Number(m[2]) : 0;
	return m && Number.isSafeInteger(seq) ? `"producer":${JSON.stringify(m[1])},"seq":${seq},` : '';
}
