// A README read outside the repository (its package's npm page, or in
// node_modules) cannot follow `docs/api.md` or `relay/README.md`: the files
// are not there. absoluteLinks() turns each relative link into a GitHub link
// at the commit the package is built from; deadLinks() is what the package
// tests check of the packed READMEs.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';

export const LINK = /\]\(([^)\s]+)\)/g;
export const isRelative = (target) => !/^(?:[a-z][a-z0-9+.-]*:|#)/i.test(target);

/** https://github.com/owner/name, from pkg.json's `repository`. */
export function repositoryUrl() {
	const { repository } = JSON.parse(readFileSync('pkg.json', 'utf8'));
	return repository.url.replace(/^git\+/, '').replace(/\.git$/, '');
}

/** The commit checked out, so that links show the files the package was built from; `main` outside git. */
function commit() {
	try {
		return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
	} catch {
		return 'main';
	}
}

/** `markdown`, the file at `path` in the repository, with its relative links made GitHub links. */
export function absoluteLinks(markdown, path, ref = commit()) {
	const dir = posix.dirname(path);
	const base = `${repositoryUrl()}/blob/${ref}/`;
	return markdown.replace(LINK, (link, target) => (isRelative(target) ? `](${base}${posix.join(dir, target)})` : link));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes. */
const slug = (heading) =>
	heading
		.toLowerCase()
		.replace(/[^\p{L}\p{N}\s_-]/gu, '')
		.replace(/\s/g, '-');
export const anchors = (markdown) => new Set([...markdown.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1])));

/**
 * The links of a packed README that lead nowhere: relative ones, in-page
 * anchors without their heading, and links into this repository whose file
 * (read from the working tree the package was built from) or heading is missing.
 */
export function deadLinks(markdown) {
	const repo = `${repositoryUrl()}/blob/`;
	const headings = anchors(markdown);
	const dead = [];
	for (const [, target] of markdown.matchAll(LINK)) {
		const [path, anchor] = target.split('#');
		if (target.startsWith('#')) {
			if (!headings.has(anchor)) dead.push(`${target}: no such heading`);
		} else if (isRelative(target)) {
			dead.push(`${target}: relative, dead on the npm page and in node_modules`);
		} else if (target.startsWith(repo)) {
			const file = path.slice(repo.length).split('/').slice(1).join('/');
			if (!existsSync(file)) dead.push(`${target}: no file ${file} in the repository`);
			else if (anchor !== undefined && !anchors(readFileSync(file, 'utf8')).has(anchor))
				dead.push(`${target}: no such heading in ${file}`);
		}
	}
	return dead;
}
