// Vocabulary: notices known words in what the user says or what audio
// transcribes, and emits vocabulary.word.encountered/.mastered and
// vocabulary.lesson.completed.
//
// Its transcription handler is async and refuses low-confidence
// transcripts by throwing: the bus then marks that event `failed` after the
// fact, which the devtools panel shows.

import { allOff } from '$lib/bus/all-off.js';

/** @type {Record<string, string>} */
const DICTIONARY = {
	hola: 'hello',
	gracias: 'thank you',
	gato: 'cat',
	gatos: 'cats',
	español: 'Spanish',
	estudio: 'I study',
	café: 'coffee',
	libro: 'book'
};
const MIN_CONFIDENCE = 0.6;

export class Vocabulary {
	/** @type {string | null} */
	userId = $state(null);
	/** @type {Record<string, { meaning: string, seen: number, mastered: boolean }>} */
	words = $state({});
	lessons = $state(0);
	#bus;
	#off;

	/** @param {import('kaiwa-bus').Bus} bus */
	constructor(bus) {
		this.#bus = bus;
		this.#off = allOff(
			bus.on('auth.user.login', (e) => (this.userId = e.userId)),
			bus.on('auth.user.logout', () => (this.userId = null)),
			bus.on('conversation.message.sent', (e) => {
				if (e.role === 'user') this.#notice(e.content);
			}),
			bus.on('audio.transcription.completed', (e) => this.#fromTranscript(e))
		);
	}

	/** @param {{ transcription: string, confidence: number }} event */
	async #fromTranscript(event) {
		await Promise.resolve(); // a real one would call a dictionary service here
		if (event.confidence < MIN_CONFIDENCE) {
			throw new Error(`transcript confidence ${event.confidence} is below ${MIN_CONFIDENCE}: no words taken from it`);
		}
		this.#notice(event.transcription);
	}

	/** @param {string} text */
	#notice(text) {
		if (!this.userId) return;
		const said = new Set(text.toLowerCase().split(/[^\p{L}]+/u));
		for (const [word, meaning] of Object.entries(DICTIONARY)) {
			if (!said.has(word)) continue;
			const known = this.words[word] ?? { meaning, seen: 0, mastered: false };
			this.words[word] = { ...known, seen: known.seen + 1 };
			this.#bus.emit('vocabulary.word.encountered', { userId: this.userId, word, language: 'es', context: text, timestamp: new Date() });
		}
	}

	/** @param {string} word */
	master(word) {
		const known = this.words[word];
		if (!this.userId || !known || known.mastered) return;
		this.words[word] = { ...known, mastered: true };
		this.#bus.emit('vocabulary.word.mastered', { userId: this.userId, word, language: 'es', masteryLevel: 'mastered', timestamp: new Date() });
	}

	completeLesson() {
		if (!this.userId) return;
		const wordsLearned = Object.keys(this.words);
		this.lessons++;
		this.#bus.emit('vocabulary.lesson.completed', {
			userId: this.userId,
			lessonId: `lesson-${this.lessons}`,
			wordsLearned,
			score: Math.min(100, wordsLearned.length * 20),
			timestamp: new Date()
		});
	}

	dispose() {
		this.#off();
	}
}
