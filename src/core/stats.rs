//! Per-event dispatch statistics: the seed's `EventPerformanceMonitor`, kept
//! as running totals so memory does not grow with the number of emits.

use crate::core::names::NameId;

/// Dispatch timings of one event, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stat {
    /// Dispatches counted (delivered or failed; rejected attempts are not).
    pub count: u64,
    /// Sum of their durations.
    pub total: f64,
    /// Shortest.
    pub min: f64,
    /// Longest.
    pub max: f64,
}

impl Stat {
    /// Mean duration.
    pub fn average(&self) -> f64 {
        self.total / self.count as f64
    }
}

/// Statistics by event.
#[derive(Debug, Default)]
pub struct Stats {
    by_name: Vec<Option<Stat>>,
}

impl Stats {
    /// Adds one dispatch of `name` that took `duration` milliseconds.
    pub fn track(&mut self, name: NameId, duration: f64) {
        let at = name.0 as usize;
        if self.by_name.len() <= at {
            self.by_name.resize(at + 1, None);
        }
        let slot = &mut self.by_name[at];
        *slot = Some(match *slot {
            None => Stat {
                count: 1,
                total: duration,
                min: duration,
                max: duration,
            },
            Some(s) => Stat {
                count: s.count + 1,
                total: s.total + duration,
                min: s.min.min(duration),
                max: s.max.max(duration),
            },
        });
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

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.by_name.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_totals() {
        let mut s = Stats::default();
        assert_eq!(s.get(NameId(3)), None);
        s.track(NameId(3), 2.0);
        s.track(NameId(3), 4.0);
        s.track(NameId(3), 0.5);
        let st = s.get(NameId(3)).unwrap();
        assert_eq!((st.count, st.min, st.max), (3, 0.5, 4.0));
        assert!((st.average() - 6.5 / 3.0).abs() < 1e-12);
        assert_eq!(s.iter().count(), 1);
        s.clear();
        assert_eq!(s.get(NameId(3)), None);
    }
}
