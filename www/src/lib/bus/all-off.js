// One function that undoes several subscriptions: what a feature keeps to
// unsubscribe everything it listens to when it is disposed of.

/** @param {...(() => void)} offs the unsubscribe functions `bus.on` returned */
export function allOff(...offs) {
	return () => {
		for (const off of offs) off();
	};
}
