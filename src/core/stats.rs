//! Per-event dispatch statistics: the seed's `EventPerformanceMonitor`, kept
//! as running totals so memory does not grow with the number of emits.
//!
//! Every dispatch is counted; durations are summed over the dispatches that
//! were timed (the JS layer times the first emit of every task and a sample
//! of the rest, see `timing` in the README).

use crate::prelude::*;

use crate::core::names::NameId;
use crate::intern::slot;

/// Dispatches of one event and their timings, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    /// Dispatches counted (delivered or failed; rejected attempts are not).
    pub count: u64,
    /// How many of them were timed.
    pub timed: u64,
    /// Sum of the timed durations.
    pub total: f64,
    /// Shortest timed duration (`f64::INFINITY` before the first).
    pub min: f64,
    /// Longest timed duration (0 before the first).
    pub max: f64,
}

impl Stat {
    const EMPTY: Stat = Stat {
        count: 0,
        timed: 0,
        total: 0.0,
        min: f64::INFINITY,
        max: 0.0,
    };

    /// Mean timed duration (`NaN` if none was timed).
    pub fn average(&self) -> f64 {
        self.total / self.timed as f64
    }
}

/// Statistics by event.
#[derive(Debug, Default)]
pub struct Stats {
    by_name: Vec<Option<Stat>>,
}

impl Stats {
    /// Counts `dispatches` dispatches of `name`.
    pub fn count(&mut self, name: NameId, dispatches: u64) {
        if let Some(s) = slot(&mut self.by_name, name.0, || None) {
            let s = s.get_or_insert(Stat::EMPTY);
            s.count = s.count.saturating_add(dispatches);
        }
    }

    /// Adds the duration of one timed dispatch of `name`, in milliseconds,
    /// to a dispatch already counted: a dispatch during which the statistics
    /// were cleared (a handler called `clear()`) is not timed.
    pub fn time(&mut self, name: NameId, duration: f64) {
        if let Some(Some(s)) = self.by_name.get_mut(name.0 as usize) {
            s.timed = s.timed.saturating_add(1);
            s.total += duration;
            s.min = s.min.min(duration);
            s.max = s.max.max(duration);
        }
    }

    /// The statistics of `name`, or `None` if it was never dispatched.
    pub fn get(&self, name: NameId) -> Option<Stat> {
        self.by_name.get(name.0 as usize).copied().flatten()
    }

    /// Every event dispatched at least once, with its statistics.
    pub fn iter(&self) -> impl Iterator<Item = (NameId, Stat)> + '_ {
        self.by_name
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.map(|s| (NameId(i as u32), s)))
    }

    /// Forgets the statistics of one event (its name was forgotten).
    pub fn forget(&mut self, name: NameId) {
        if let Some(s) = self.by_name.get_mut(name.0 as usize) {
            *s = None;
        }
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.by_name.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_totals_over_timed_dispatches() {
        let mut s = Stats::default();
        assert_eq!(s.get(NameId(3)), None);
        for d in [Some(2.0), None, Some(4.0), Some(0.5)] {
            s.count(NameId(3), 1);
            if let Some(d) = d {
                s.time(NameId(3), d);
            }
        }
        let st = s.get(NameId(3)).unwrap();
        assert_eq!((st.count, st.timed, st.min, st.max), (4, 3, 0.5, 4.0));
        assert!((st.average() - 6.5 / 3.0).abs() < 1e-12);
        assert_eq!(s.iter().count(), 1);
        s.clear();
        assert_eq!(s.get(NameId(3)), None);
    }
}
