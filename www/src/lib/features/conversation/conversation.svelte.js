// Conversation: reacts to sign-in (the seed's cross-feature example), then
// starts a conversation, sends messages, and ends it. The "assistant" is a
// canned reply a moment later, as a real model's answer would come.

import { allOff } from '$lib/bus/all-off.js';

const REPLIES = ['¡Qué bien! ¿Y por qué?', 'Muy interesante. Cuéntame más.', '¡Claro que sí!', 'Vale, ¿y después?'];
const REPLY_DELAY_MS = 300;

let nextId = 1;
const newId = (/** @type {string} */ prefix) => `${prefix}-${Date.now().toString(36)}-${nextId++}`;

export class Conversation {
	/** The signed-in user, as auth.user.login told us. */
	/** @type {{ id: string, tier: string } | null} */
	user = $state(null);
	/** Preferences worked out from the tier at sign-in. */
	mode = $state(/** @type {'traditional' | 'realtime'} */ ('traditional'));
	/** @type {{ id: string, language: string, startedAt: number } | null} */
	active = $state(null);
	/** @type {{ id: string, role: 'user' | 'assistant', content: string }[]} */
	messages = $state([]);
	#bus;
	#off;
	#timers = new Set();

	/** @param {import('kaiwa-bus').Bus} bus */
	constructor(bus) {
		this.#bus = bus;
		this.#off = allOff(bus.on('auth.user.login', (e, meta) => this.#onLogin(e, meta.source === 'local')), bus.on('auth.user.logout', () => this.#onLogout()));
	}

	// The seed's ConversationService.handleUserLogin.
	// A login in another tab of this user is that tab's to report.
	/** @param {{ userId: string, tier: string }} event @param {boolean} here */
	#onLogin(event, here) {
		this.user = { id: event.userId, tier: event.tier };
		this.mode = event.tier === 'free' ? 'traditional' : 'realtime';
		if (here) this.#bus.emit('analytics.feature.used', {
			userId: event.userId,
			sessionId: 'auth-session',
			feature: 'conversation',
			action: 'user_login_processed',
			properties: { tier: event.tier },
			timestamp: new Date()
		});
	}

	#onLogout() {
		if (this.active) this.end();
		this.user = null;
	}

	start(targetLanguage = 'es') {
		if (!this.user || this.active) return;
		this.active = { id: newId('conv'), language: targetLanguage, startedAt: Date.now() };
		this.messages = [];
		this.#bus.emit('conversation.started', {
			conversationId: this.active.id,
			userId: this.user.id,
			targetLanguage,
			mode: this.mode,
			timestamp: new Date()
		});
	}

	/** @param {string} content */
	send(content) {
		if (!this.active || !content) return;
		this.#add('user', content);
		const conversation = this.active.id;
		const timer = setTimeout(() => {
			this.#timers.delete(timer);
			if (this.active?.id === conversation) this.#add('assistant', REPLIES[this.messages.length % REPLIES.length]);
		}, REPLY_DELAY_MS);
		this.#timers.add(timer);
	}

	end() {
		const active = this.active;
		if (!active || !this.user) return;
		this.#cancelReplies();
		this.active = null;
		this.#bus.emit('conversation.ended', {
			conversationId: active.id,
			userId: this.user.id,
			duration: Math.round((Date.now() - active.startedAt) / 1000),
			messageCount: this.messages.length,
			timestamp: new Date()
		});
	}

	/** @param {'user' | 'assistant'} role @param {string} content */
	#add(role, content) {
		if (!this.active) return;
		const message = { id: newId('msg'), role, content };
		this.messages = [...this.messages, message];
		this.#bus.emit('conversation.message.sent', {
			conversationId: this.active.id,
			messageId: message.id,
			role,
			content,
			timestamp: new Date()
		});
	}

	#cancelReplies() {
		for (const timer of this.#timers) clearTimeout(timer);
		this.#timers.clear();
	}

	dispose() {
		this.#cancelReplies();
		this.#off();
	}
}
