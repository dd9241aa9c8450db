// A static file server on 127.0.0.1 for the browser tests and the
// benchmark: serves `root`, with the right MIME type for .wasm.

import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';

const TYPES = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.mjs': 'text/javascript; charset=utf-8',
	'.json': 'application/json',
	'.wasm': 'application/wasm',
	'.css': 'text/css',
	'.svg': 'image/svg+xml'
};

// Resolves to { url, close } once listening on a free port (or `port`).
export function serveStatic(root, port = 0) {
	const server = createServer((req, res) => {
		const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
		const file = join(root, path.endsWith('/') ? `${path}index.html` : path);
		try {
			if (!statSync(file).isFile()) throw new Error('not a file');
		} catch {
			res.writeHead(404).end('not found');
			return;
		}
		const body = readFileSync(file);
		res.writeHead(200, {
			'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
			'content-length': body.length,
			'cache-control': 'no-store'
		});
		res.end(body);
	});
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(port, '127.0.0.1', () => {
			resolve({
				url: `http://127.0.0.1:${server.address().port}`,
				close: () => new Promise((done) => server.close(done))
			});
		});
	});
}
