// Generated from src/schema/catalog.rs by `make types`. Do not edit by hand.
// The seed's event catalog as a TypeScript event map.

export interface AuthEvents {
	/** User successfully logged in (v1.0.0; relay audience 'user') */
	'auth.user.login': {
		userId: string;
		email: string;
		tier: string;
		timestamp: Date;
	};
	/** User logged out (v1.0.0; relay audience 'user') */
	'auth.user.logout': {
		userId: string;
		timestamp: Date;
	};
	/** A new user account was created (v1.0.0; relay audience 'user') */
	'auth.user.registered': {
		userId: string;
		email: string;
		tier: string;
		timestamp: Date;
	};
	/** A user's subscription tier changed (v1.0.0; relay audience 'user') */
	'auth.subscription.updated': {
		userId: string;
		oldTier: string;
		newTier: string;
		timestamp: Date;
	};
}

export interface ConversationEvents {
	/** A conversation began (v1.0.0; relay audience 'user') */
	'conversation.started': {
		conversationId: string;
		userId: string;
		targetLanguage: string;
		mode: 'traditional' | 'realtime';
		timestamp: Date;
	};
	/** A message was added to a conversation (v1.0.0; relay audience 'user') */
	'conversation.message.sent': {
		conversationId: string;
		messageId: string;
		role: 'user' | 'assistant';
		content: string;
		timestamp: Date;
	};
	/** A conversation finished (v1.0.0; relay audience 'user') */
	'conversation.ended': {
		conversationId: string;
		userId: string;
		duration: number;
		messageCount: number;
		timestamp: Date;
	};
	/** A conversation failed (v1.0.0; relay audience 'user') */
	'conversation.error': {
		conversationId: string;
		error: string;
		context: Record<string, any>;
		timestamp: Date;
	};
}

export interface AudioEvents {
	/** Microphone recording began (v1.0.0; relay audience 'user') */
	'audio.recording.started': {
		sessionId: string;
		userId?: string;
		timestamp: Date;
	};
	/** Microphone recording ended (v1.0.0; relay audience 'user') */
	'audio.recording.stopped': {
		sessionId: string;
		duration: number;
		audioSize: number;
		timestamp: Date;
	};
	/** Recorded speech was transcribed (v1.0.0; relay audience 'user') */
	'audio.transcription.completed': {
		sessionId: string;
		transcription: string;
		confidence: number;
		language: string;
		timestamp: Date;
	};
	/** Audio playback began (v1.0.0; relay audience 'user') */
	'audio.playback.started': {
		sessionId: string;
		audioId: string;
		timestamp: Date;
	};
}

export interface VocabularyEvents {
	/** A learner met a word in context (v1.0.0; relay audience 'user') */
	'vocabulary.word.encountered': {
		userId: string;
		word: string;
		language: string;
		context: string;
		timestamp: Date;
	};
	/** A word reached a new mastery level (v1.0.0; relay audience 'user') */
	'vocabulary.word.mastered': {
		userId: string;
		word: string;
		language: string;
		masteryLevel: 'new' | 'learning' | 'practicing' | 'mastered';
		timestamp: Date;
	};
	/** A vocabulary lesson was finished (v1.0.0; relay audience 'user') */
	'vocabulary.lesson.completed': {
		userId: string;
		lessonId: string;
		wordsLearned: string[];
		score: number;
		timestamp: Date;
	};
}

export interface SubscriptionEvents {
	/** A paid subscription started (v1.0.0; relay audience 'user') */
	'subscription.created': {
		userId: string;
		subscriptionId: string;
		tier: string;
		amount: number;
		currency: string;
		timestamp: Date;
	};
	/** A subscription was canceled (v1.0.0; relay audience 'user') */
	'subscription.canceled': {
		userId: string;
		subscriptionId: string;
		reason?: string;
		timestamp: Date;
	};
	/** A subscription renewed for another period (v1.0.0; relay audience 'user') */
	'subscription.renewed': {
		userId: string;
		subscriptionId: string;
		nextBillingDate: Date;
		timestamp: Date;
	};
}

export interface AnalyticsEvents {
	/** A feature was used (v1.0.0; relay audience 'user') */
	'analytics.feature.used': {
		userId?: string;
		sessionId: string;
		feature: string;
		action: string;
		properties: Record<string, any>;
		timestamp: Date;
	};
	/** An error was reported for analytics (v1.0.0; relay audience 'user') */
	'analytics.error.occurred': {
		userId?: string;
		sessionId: string;
		error: string;
		context: Record<string, any>;
		timestamp: Date;
	};
	/** A performance measurement was taken (v1.0.0; relay audience 'user') */
	'analytics.performance.metric': {
		userId?: string;
		sessionId: string;
		metric: string;
		value: number;
		unit: string;
		timestamp: Date;
	};
}

/** Every catalog event by name. Extend it with declaration merging for your own events. */
export interface KaiwaEvents
	extends AuthEvents,
		ConversationEvents,
		AudioEvents,
		VocabularyEvents,
		SubscriptionEvents,
		AnalyticsEvents {}
