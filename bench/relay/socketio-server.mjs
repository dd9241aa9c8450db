// The comparison server of `make bench-relay`: socket.io 4 with
// @socket.io/redis-streams-adapter on the same Redis as kaiwa-relay, the stack
// a SvelteKit team would otherwise pick. It does what the relay does for the
// benchmark: a `publish` (with an ack) is broadcast to every other socket as
// `event`, through the adapter's Redis stream.
//
// usage: node socketio-server.mjs REDIS_URL   (prints "listening on HOST:PORT")

import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createClient } from 'redis';
import { createAdapter } from '@socket.io/redis-streams-adapter';

const redis = createClient({ url: process.argv[2] });
await redis.connect();
const http = createServer();
const io = new Server(http, { adapter: createAdapter(redis), transports: ['websocket'], serveClient: false });
io.on('connection', (socket) => {
	socket.on('publish', (payload, ack) => {
		socket.broadcast.emit('event', payload);
		if (typeof ack === 'function') ack(true);
	});
});
http.listen(0, '127.0.0.1', () => {
	const { address, port } = http.address();
	console.log(`listening on ${address}:${port}`);
});
process.on('SIGTERM', () => process.exit(0));
