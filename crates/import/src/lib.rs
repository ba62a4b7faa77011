//! Gõ Cửa's import of the police's lists ("DC01 mở rộng": citizens with a CCCD not yet
//! registered for VNeID, citizens approved but not activated), pure: bytes in, a plan and a
//! dry-run report out. No database, no events, no logging.
//!
//! The steps, each usable alone so a UI can show and correct every guess:
//!
//! 1. [`read_table`] reads an XLSX/XLS/CSV file into a [`Table`] of typed cells with the
//!    spreadsheet's own row numbers (merged cells filled down, encodings and delimiters found).
//! 2. [`detect_columns`] finds the header row under the title rows and guesses a [`ColumnMap`];
//!    a [`Layout`] remembers the officer's corrections for the next file with the same headers.
//! 3. [`plan()`] repairs what Excel damaged ([`repair`]), validates every row against the
//!    commune's hamlets and residents ([`Known`]) and groups people into households with stable
//!    keys, with a [`Report`] of every error, warning and repair by row.
//!
//! Decisions the wiring relies on:
//!
//! - Row numbers are the spreadsheet's own (1-based, as Excel shows them; a CSV record's line).
//! - A row with an error is left out of the plan; a warning or a repair keeps it. A CCCD found
//!   on several rows fails every one of them (the file cannot tell which is right); a person
//!   without CCCD repeated (same name, year and household) fails the repeats only.
//! - Keys ([`ImportedPerson::key`], [`PlannedHousehold::key`]) are 128-bit hex hashes of the
//!   CCCD, else of (hamlet, folded name, birth year, household grouping), mixed with
//!   [`PlanOptions::key_namespace`]; the same file gives the same keys, a corrected row changes
//!   only its own. A CCCD's key is guessable by whoever knows the namespace: keys stay inside.
//! - A 9-digit CMND is not a CCCD: the person is kept without one, with a warning. A sex the
//!   file does not give is read from the CCCD; without either the row fails (`resident_added`
//!   needs a sex).
//! - Vertically merged cells are filled down into the rows they cover and reported once per
//!   merge; an uncalculated formula or an Excel error in a field a person needs is an error,
//!   in the phone, relation or status a warning.
//! - Nothing is logged, and the `Debug` output of every type holding cells leaves them out.
//!
//! ```no_run
//! # fn demo(bytes: &[u8]) -> Result<(), gocua_import::ImportError> {
//! use gocua_import::{Known, PlanOptions, detect_columns, plan, read_table};
//! let table = read_table(bytes, "danh-sach.xlsx")?;
//! let map = detect_columns(&table)?;
//! let result = plan(&table, &map, &Known::default(), &PlanOptions::new(2026), None)?;
//! println!("{} people, {} errors", result.report.counts.people_planned, result.report.counts.errors);
//! # Ok(()) }
//! ```

pub mod columns;
pub mod error;
pub mod events;
pub mod plan;
pub mod read;
pub mod repair;
#[cfg(feature = "testdata")]
pub mod testdata;
pub mod undo;

pub use columns::{ColumnMap, Field, Layout, SexCodes, detect_columns, read_list};
pub use error::{ImportError, WorkbookProblem};
pub use events::{ImportCounts, ImportEvents, events_for};
pub use plan::{
    Counts, ImportedPerson, Issue, Known, KnownHamlet, KnownResident, ListKind, Plan, PlanOptions, PlannedHousehold,
    Report, Severity, plan,
};
pub use read::{CellValue, ReadOptions, Row, Source, Table, read_table, read_table_with, sheet_names};
pub use undo::{UndoCounts, UndoEvents, UndoRecord, undo_events};
