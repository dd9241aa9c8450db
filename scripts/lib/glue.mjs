// wasm-bindgen's JS glue (target/pkg-raw/kaiwa_bus.js), cut to what the
// package's three entries use (scripts/build-pkg.mjs writes the result to
// pkg/kaiwa_bus.js; docs/internals.md, "Size"). The glue is internal: only
// js/index.js (`init`), js/inline.js and js/node.js (`initSync`) load the
// module, always with `{ module_or_path }` or `{ module }`, and js/index.js
// keeps the one promise itself. Each cut names the text it replaces and
// fails the build if wasm-bindgen no longer writes it.

// Replaces the one occurrence of `from` (up to `to`, included, when given).
function cut(glue, what, from, to, by) {
	const start = glue.indexOf(from);
	const end = to === undefined ? start + from.length : glue.indexOf(to, start) + to.length;
	if (start < 0 || glue.indexOf(from, start + 1) >= 0 || end < start + from.length) {
		throw new Error(`build-pkg: wasm-bindgen's glue no longer has the ${what} this build cuts (did wasm-bindgen change?)`);
	}
	return glue.slice(0, start) + by + glue.slice(end);
}

// The loader: fetch a URL, stream a Response (falling back to its bytes, with
// wasm-bindgen's warning, when the server sends the wrong MIME type),
// instantiate bytes or a compiled Module; `initSync` for bytes or a Module.
// wasm-bindgen's own also takes the deprecated bare argument and keeps a
// promise of its own.
const loader = `async function __wbg_load(source, imports) {
    if (typeof Response === 'function' && source instanceof Response) {
        if (!source.ok) throw new Error(\`failed to fetch Wasm: \${source.status} \${source.statusText} fetching '\${source.url}'\`);
        if (typeof WebAssembly.instantiateStreaming === 'function') {
            try {
                return await WebAssembly.instantiateStreaming(source, imports);
            } catch (e) {
                if (!['basic', 'cors', 'default'].includes(source.type) || source.headers.get('Content-Type') === 'application/wasm') throw e;
                console.warn("\`WebAssembly.instantiateStreaming\` failed because your server does not serve Wasm with \`application/wasm\` MIME type. Falling back to \`WebAssembly.instantiate\` which is slower. Original error:\\n", e);
            }
        }
        source = await source.arrayBuffer();
    }
    const instance = await WebAssembly.instantiate(source, imports);
    return instance instanceof WebAssembly.Instance ? { instance, module: source } : instance;
}

function initSync(options) {
    if (wasm !== undefined) return wasm;
    let { module } = options;
    if (!(module instanceof WebAssembly.Module)) module = new WebAssembly.Module(module);
    return __wbg_finalize_init(new WebAssembly.Instance(module, __wbg_get_imports()), module);
}

async function __wbg_init({ module_or_path: source }) {
    if (wasm !== undefined) return wasm;
    if (typeof source === 'string' || (typeof Request === 'function' && source instanceof Request) || source instanceof URL) source = fetch(source);
    const { instance, module } = await __wbg_load(await source, __wbg_get_imports());
    return __wbg_finalize_init(instance, module);
}

export { initSync, __wbg_init as default };
`;

export function compactGlue(glue) {
	glue = cut(glue, 'loader', 'async function __wbg_load(', 'export { initSync, __wbg_init as default };\n', loader);
	// Every call passes wasm.__wbindgen_realloc, so the branch without it never runs.
	glue = cut(glue, 'malloc-only string copy', '    if (realloc === undefined) {', '        return ptr;\n    }\n', '');
	// TextEncoder.encodeInto is in every runtime that has the class fields js/core uses
	// (Chrome 74, Firefox 66, Safari 14.1, Node 12).
	glue = cut(glue, 'encodeInto polyfill', "if (!('encodeInto' in cachedTextEncoder)) {", '\n    };\n}\n', '');
	return glue;
}

// The .wasm's exports of the class's methods (`buscore_registerSchema`, `__wbg_buscore_free`...)
// renamed to one or two letters, in the export section and in the glue's `wasm.<name>` calls: the
// names are in both files, and nothing but the glue calls them (docs/internals.md, "Size"). The
// other exports (memory, wasm-bindgen's __wbindgen_*) keep their names. Returns both files.
export function shortExports(wasm, glue) {
	const names = new Map();
	const short = (i) => String.fromCharCode(97 + (i % 26)) + (i < 26 ? '' : String(Math.floor(i / 26)));
	const out = [wasm.subarray(0, 8)];
	for (let start = 8; start < wasm.length;) {
		const id = wasm[start];
		const [size, sizeEnd] = leb(wasm, start + 1);
		const payload = wasm.subarray(sizeEnd, sizeEnd + size);
		const end = sizeEnd + size;
		if (id !== 7) {
			out.push(wasm.subarray(start, end));
			start = end;
			continue;
		}
		start = end;
		// The export section: a count, then per export its name, a kind byte and an index.
		const [count, first] = leb(payload, 0);
		const entries = [encodeLeb(count)];
		for (let i = 0, p = first; i < count; i++) {
			const [length, nameStart] = leb(payload, p);
			let name = Buffer.from(payload.subarray(nameStart, nameStart + length)).toString('utf8');
			const [, indexEnd] = leb(payload, nameStart + length + 1);
			if (/^(__wbg_)?buscore_\w+$/.test(name)) {
				names.set(name, short(names.size));
				name = names.get(name);
			}
			const bytes = Buffer.from(name, 'utf8');
			entries.push(encodeLeb(bytes.length), bytes, payload.subarray(nameStart + length, indexEnd));
			p = indexEnd;
		}
		const section = Buffer.concat(entries);
		out.push(Buffer.from([7]), encodeLeb(section.length), section);
	}
	glue = glue.replace(/\bwasm\.((?:__wbg_)?buscore_\w+)\b/g, (whole, name) => {
		if (!names.has(name)) throw new Error(`build-pkg: the glue calls wasm.${name}, which the .wasm does not export`);
		return `wasm.${names.get(name)}`;
	});
	if (names.size === 0 || /buscore_/.test(glue))
		throw new Error("build-pkg: the class's exports were not all renamed (did wasm-bindgen change?)");
	return { wasm: Buffer.concat(out), glue };
}

function leb(bytes, at) {
	let value = 0;
	for (let shift = 0; ; shift += 7) {
		const byte = bytes[at++];
		value += (byte & 0x7f) * 2 ** shift;
		if (byte < 0x80) return [value, at];
	}
}

function encodeLeb(value) {
	const bytes = [];
	do {
		let byte = value & 0x7f;
		value = Math.floor(value / 128);
		if (value > 0) byte |= 0x80;
		bytes.push(byte);
	} while (value > 0);
	return Buffer.from(bytes);
}
