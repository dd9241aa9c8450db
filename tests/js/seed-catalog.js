// The seed's 21 events, written by hand from "Event Schema Definitions" in
// event-system-architecture.md (not generated from the Rust catalog), with a
// valid payload for each. The tests derive wrong values from the types here.

const at = new Date('2026-11-26T10:00:00Z');

// type: 'string' | 'number' | 'Date' | 'string[]' | 'record' | ['lit', ...values]; `?` marks optional.
export const SEED = {
	'auth.user.login': {
		fields: { userId: 'string', email: 'string', tier: 'string', timestamp: 'Date' },
		valid: { userId: 'u1', email: 'aiko@example.com', tier: 'pro', timestamp: at }
	},
	'auth.user.logout': {
		fields: { userId: 'string', timestamp: 'Date' },
		valid: { userId: 'u1', timestamp: at }
	},
	'auth.user.registered': {
		fields: { userId: 'string', email: 'string', tier: 'string', timestamp: 'Date' },
		valid: { userId: 'u2', email: 'ken@example.com', tier: 'free', timestamp: at }
	},
	'auth.subscription.updated': {
		fields: { userId: 'string', oldTier: 'string', newTier: 'string', timestamp: 'Date' },
		valid: { userId: 'u1', oldTier: 'free', newTier: 'pro', timestamp: at }
	},
	'conversation.started': {
		fields: {
			conversationId: 'string',
			userId: 'string',
			targetLanguage: 'string',
			mode: ['lit', 'traditional', 'realtime'],
			timestamp: 'Date'
		},
		valid: { conversationId: 'c1', userId: 'u1', targetLanguage: 'ja', mode: 'traditional', timestamp: at }
	},
	'conversation.message.sent': {
		fields: {
			conversationId: 'string',
			messageId: 'string',
			role: ['lit', 'user', 'assistant'],
			content: 'string',
			timestamp: 'Date'
		},
		valid: { conversationId: 'c1', messageId: 'm1', role: 'assistant', content: 'こんにちは', timestamp: at }
	},
	'conversation.ended': {
		fields: { conversationId: 'string', userId: 'string', duration: 'number', messageCount: 'number', timestamp: 'Date' },
		valid: { conversationId: 'c1', userId: 'u1', duration: 312.5, messageCount: 14, timestamp: at }
	},
	'conversation.error': {
		fields: { conversationId: 'string', error: 'string', context: 'record', timestamp: 'Date' },
		valid: { conversationId: 'unknown', error: 'network down', context: { userId: 'u1', retry: 2 }, timestamp: at }
	},
	'audio.recording.started': {
		fields: { sessionId: 'string', userId: 'string?', timestamp: 'Date' },
		valid: { sessionId: 's1', userId: 'u1', timestamp: at }
	},
	'audio.recording.stopped': {
		fields: { sessionId: 'string', duration: 'number', audioSize: 'number', timestamp: 'Date' },
		valid: { sessionId: 's1', duration: 4.2, audioSize: 65536, timestamp: at }
	},
	'audio.transcription.completed': {
		fields: { sessionId: 'string', transcription: 'string', confidence: 'number', language: 'string', timestamp: 'Date' },
		valid: { sessionId: 's1', transcription: 'おはよう', confidence: 0.93, language: 'ja', timestamp: at }
	},
	'audio.playback.started': {
		fields: { sessionId: 'string', audioId: 'string', timestamp: 'Date' },
		valid: { sessionId: 's1', audioId: 'a9', timestamp: at }
	},
	'vocabulary.word.encountered': {
		fields: { userId: 'string', word: 'string', language: 'string', context: 'string', timestamp: 'Date' },
		valid: { userId: 'u1', word: '猫', language: 'ja', context: '猫が好きです', timestamp: at }
	},
	'vocabulary.word.mastered': {
		fields: {
			userId: 'string',
			word: 'string',
			language: 'string',
			masteryLevel: ['lit', 'new', 'learning', 'practicing', 'mastered'],
			timestamp: 'Date'
		},
		valid: { userId: 'u1', word: '猫', language: 'ja', masteryLevel: 'practicing', timestamp: at }
	},
	'vocabulary.lesson.completed': {
		fields: { userId: 'string', lessonId: 'string', wordsLearned: 'string[]', score: 'number', timestamp: 'Date' },
		valid: { userId: 'u1', lessonId: 'l3', wordsLearned: ['猫', '犬'], score: 87, timestamp: at }
	},
	'subscription.created': {
		fields: { userId: 'string', subscriptionId: 'string', tier: 'string', amount: 'number', currency: 'string', timestamp: 'Date' },
		valid: { userId: 'u1', subscriptionId: 'sub1', tier: 'pro', amount: 9.99, currency: 'USD', timestamp: at }
	},
	'subscription.canceled': {
		fields: { userId: 'string', subscriptionId: 'string', reason: 'string?', timestamp: 'Date' },
		valid: { userId: 'u1', subscriptionId: 'sub1', reason: 'too expensive', timestamp: at }
	},
	'subscription.renewed': {
		fields: { userId: 'string', subscriptionId: 'string', nextBillingDate: 'Date', timestamp: 'Date' },
		valid: { userId: 'u1', subscriptionId: 'sub1', nextBillingDate: new Date('2026-12-26T00:00:00Z'), timestamp: at }
	},
	'analytics.feature.used': {
		fields: { userId: 'string?', sessionId: 'string', feature: 'string', action: 'string', properties: 'record', timestamp: 'Date' },
		valid: {
			sessionId: 'auth-session',
			feature: 'conversation',
			action: 'user_login_processed',
			properties: { tier: 'pro' },
			timestamp: at
		}
	},
	'analytics.error.occurred': {
		fields: { userId: 'string?', sessionId: 'string', error: 'string', context: 'record', timestamp: 'Date' },
		valid: { userId: 'u1', sessionId: 's1', error: 'boom', context: { handler: 'conversation.started' }, timestamp: at }
	},
	'analytics.performance.metric': {
		fields: { userId: 'string?', sessionId: 'string', metric: 'string', value: 'number', unit: 'string', timestamp: 'Date' },
		valid: { sessionId: 's1', metric: 'ttfb', value: 120, unit: 'ms', timestamp: at }
	}
};

// A value of the wrong type for each seed type, and how the issue names it.
export function wrongValueFor(type) {
	const base = typeof type === 'string' ? type.replace('?', '') : 'lit';
	switch (base) {
		case 'string':
			return { value: 42, received: 'number' };
		case 'number':
			return { value: '42', received: 'string' };
		case 'Date':
			return { value: '2026-11-26', received: 'string' };
		case 'string[]':
			return { value: 'a,b', received: 'string' };
		case 'record':
			return { value: 'not an object', received: 'string' };
		case 'lit':
			return { value: 'bogus', received: "'bogus'" };
		default:
			throw new Error(`unknown seed type ${type}`);
	}
}

export function isOptional(type) {
	return typeof type === 'string' && type.endsWith('?');
}
