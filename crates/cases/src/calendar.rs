//! 工作日历 working-day calendar. Time limits (办结时限) count working days: weekends and public
//! holidays are off, adjusted weekends (调休) are on. The calendar is data, one YAML file per
//! year, so a new year's State Council notice is a file change, not a release.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Deserialize;

use crate::error::CaseError;

#[derive(Debug, Deserialize)]
struct YearFile {
    year: i32,
    #[serde(default)]
    holidays: Vec<NaiveDate>,
    #[serde(default)]
    workdays: Vec<NaiveDate>,
}

/// Holidays and adjusted working days, by year.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
    years: BTreeMap<i32, usize>,
}

impl WorkCalendar {
    /// Weekends only (no holiday files).
    pub fn weekends_only() -> WorkCalendar {
        WorkCalendar::default()
    }

    /// Parse one year's file and add it.
    pub fn add_year_yaml(&mut self, text: &str) -> Result<(), CaseError> {
        let f: YearFile = serde_yaml::from_str(text).map_err(|e| CaseError::Config(format!("工作日历格式错误：{e}")))?;
        for d in f.holidays.iter().chain(&f.workdays) {
            if d.year() != f.year {
                return Err(CaseError::Config(format!("工作日历 {} 年的文件含有其他年份的日期 {d}", f.year)));
            }
        }
        if let Some(d) = f.holidays.iter().find(|d| f.workdays.contains(d)) {
            return Err(CaseError::Config(format!("{d} 同时列为节假日和调休工作日")));
        }
        self.years.insert(f.year, f.holidays.len() + f.workdays.len());
        self.holidays.extend(f.holidays);
        self.workdays.extend(f.workdays);
        Ok(())
    }

    /// Load every `*.yaml` in a directory (e.g. `demo/calendar`).
    pub fn load_dir(dir: &Path) -> Result<WorkCalendar, CaseError> {
        let mut cal = WorkCalendar::default();
        let entries = std::fs::read_dir(dir).map_err(|e| CaseError::Config(format!("无法读取工作日历目录 {}：{e}", dir.display())))?;
        let mut files: Vec<_> =
            entries.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "yaml")).collect();
        files.sort();
        for p in files {
            let text = std::fs::read_to_string(&p).map_err(|e| CaseError::Config(format!("无法读取 {}：{e}", p.display())))?;
            cal.add_year_yaml(&text)?;
        }
        Ok(cal)
    }

    /// Years that have a holiday file.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.workdays.contains(&d) {
            return true;
        }
        if self.holidays.contains(&d) {
            return false;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The date `n` working days after `from` (the start day itself does not count; a limit of
    /// one working day accepted on Friday ends on Monday). `n = 0` is `from` itself.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> NaiveDate {
        let mut d = from;
        let mut left = n;
        while left > 0 {
            d += Duration::days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        d
    }

    /// Working days in `(from, to]`: how many working days of a limit `to` uses up when the
    /// clock started on `from`. Zero when `to <= from`.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            d += Duration::days(1);
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn demo() -> WorkCalendar {
        let mut c = WorkCalendar::default();
        c.add_year_yaml(include_str!("../../../demo/calendar/2026.yaml")).unwrap();
        c
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn holidays_and_adjusted_weekends() {
        let c = demo();
        assert!(!c.is_working_day(d("2026-10-01")));
        assert!(!c.is_working_day(d("2026-10-07")), "a Wednesday inside National Day is off");
        assert!(c.is_working_day(d("2026-10-10")), "Saturday 10 Oct is an adjusted working day");
        assert!(c.is_working_day(d("2026-09-20")), "Sunday 20 Sep is an adjusted working day");
        assert!(!c.is_working_day(d("2026-11-21")), "an ordinary Saturday");
        assert!(c.is_working_day(d("2026-11-23")));
    }

    #[test]
    fn limits_across_national_day() {
        let c = demo();
        // Accepted Tuesday 29 Sep: 30 Sep is day 1, then 1–7 Oct are off, Thu 8 is day 2,
        // Fri 9 day 3, Sat 10 (adjusted) day 4, Mon 12 day 5.
        assert_eq!(c.add_working_days(d("2026-09-29"), 5), d("2026-10-12"));
        assert_eq!(c.working_days_between(d("2026-09-29"), d("2026-10-12")), 5);
        // Friday + 1 = Monday.
        assert_eq!(c.add_working_days(d("2026-11-20"), 1), d("2026-11-23"));
        assert_eq!(c.add_working_days(d("2026-11-20"), 0), d("2026-11-20"));
    }

    #[test]
    fn spring_festival_is_long() {
        let c = demo();
        // Fri 13 Feb + 1: Sat 14 is an adjusted working day.
        assert_eq!(c.add_working_days(d("2026-02-13"), 1), d("2026-02-14"));
        // Sat 14 + 1: 15–23 off, Tue 24.
        assert_eq!(c.add_working_days(d("2026-02-14"), 1), d("2026-02-24"));
    }

    #[test]
    fn bad_files_are_refused() {
        let mut c = WorkCalendar::default();
        assert!(c.add_year_yaml("year: 2026\nholidays: [2025-12-31]").is_err());
        assert!(c.add_year_yaml("year: 2026\nholidays: [2026-10-10]\nworkdays: [2026-10-10]").is_err());
        assert!(c.add_year_yaml("year: twenty").is_err());
        assert!(c.add_year_yaml("year: 2026\nholidays: [2026-02-30]").is_err());
    }

    proptest! {
        #[test]
        fn adding_then_counting_round_trips(offset in 0i64..700, n in 0u32..60) {
            let c = demo();
            let from = d("2025-12-01") + Duration::days(offset);
            let to = c.add_working_days(from, n);
            prop_assert_eq!(c.working_days_between(from, to), n);
            prop_assert!(n == 0 || c.is_working_day(to));
            prop_assert!(to >= from);
        }
    }
}
