// Audio: records (simulated: no microphone is opened), transcribes, and
// plays back. Emits audio.recording.started/.stopped,
// audio.transcription.completed and audio.playback.started.

import { allOff } from '$lib/bus/all-off.js';

const TRANSCRIPTS = ['Estudio español cada día', 'Gracias, me gusta el café'];

let nextId = 1;
const newId = (/** @type {string} */ prefix) => `${prefix}-${Date.now().toString(36)}-${nextId++}`;

export class Audio {
	/** @type {string | null} */
	userId = $state(null);
	/** @type {{ sessionId: string, startedAt: number } | null} */
	recording = $state(null);
	/** @type {{ sessionId: string, transcription: string, confidence: number } | null} */
	last = $state(null);
	#bus;
	#off;
	#takes = 0;

	/** @param {import('kaiwa-bus').Bus} bus */
	constructor(bus) {
		this.#bus = bus;
		this.#off = allOff(
			bus.on('auth.user.login', (e) => (this.userId = e.userId)),
			bus.on('auth.user.logout', () => (this.userId = null))
		);
	}

	start() {
		if (this.recording) return;
		this.recording = { sessionId: newId('rec'), startedAt: Date.now() };
		this.#bus.emit('audio.recording.started', {
			sessionId: this.recording.sessionId,
			...(this.userId ? { userId: this.userId } : {}),
			timestamp: new Date()
		});
	}

	/** Stops and transcribes; a noisy room gives a low-confidence transcript. */
	stop(noisy = false) {
		const recording = this.recording;
		if (!recording) return;
		this.recording = null;
		const duration = Math.max(1, Math.round((Date.now() - recording.startedAt) / 1000));
		this.#bus.emit('audio.recording.stopped', {
			sessionId: recording.sessionId,
			duration,
			audioSize: duration * 32_000,
			timestamp: new Date()
		});
		const transcription = TRANSCRIPTS[this.#takes++ % TRANSCRIPTS.length];
		this.last = { sessionId: recording.sessionId, transcription, confidence: noisy ? 0.31 : 0.94 };
		this.#bus.emit('audio.transcription.completed', { ...this.last, language: 'es', timestamp: new Date() });
	}

	play() {
		if (!this.last) return;
		this.#bus.emit('audio.playback.started', { sessionId: this.last.sessionId, audioId: `audio-${this.last.sessionId}`, timestamp: new Date() });
	}

	dispose() {
		this.#off();
	}
}
