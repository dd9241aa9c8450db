// Debian's headless Chromium, driven by playwright-core, with the flags this
// machine needs (no sandbox as root, no background networking on a closed
// network) and a fresh profile each time.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
	'--headless=new',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--disable-dev-shm-usage'
];

// Returns { context, close }: a persistent context on a throwaway profile;
// `args` adds Chromium flags.
export async function launchChromium({ viewport = { width: 1280, height: 800 }, args = [] } = {}) {
	const profile = mkdtempSync(join(tmpdir(), 'kaiwa-chromium-'));
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		args: [...CHROMIUM_ARGS, ...args],
		viewport
	});
	return {
		context,
		async close() {
			await context.close();
			rmSync(profile, { recursive: true, force: true });
		}
	};
}
