//! The outcome of running one script.

use std::fmt;

/// One directive that did not behave as the script asserted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// 1-based line of the directive in the script.
    pub line: usize,
    /// 1-based column of the directive in the script.
    pub column: usize,
    /// The directive's keyword, e.g. `assert_return`.
    pub directive: &'static str,
    /// Why it failed, in a few words.
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.line, self.column, self.directive, self.reason
        )
    }
}

/// A directive that passed, with a remark worth reading (for example a trap
/// whose message differs from the script's expected text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// 1-based line of the directive in the script.
    pub line: usize,
    /// 1-based column of the directive in the script.
    pub column: usize,
    /// The remark.
    pub text: String,
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: note: {}", self.line, self.column, self.text)
    }
}

/// What happened when a script ran: directive counts, failures and notes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The name the script was run under (usually its path).
    pub name: String,
    /// Number of directives that behaved as asserted.
    pub passed: usize,
    /// Every directive that did not, in script order.
    pub failures: Vec<Failure>,
    /// Remarks on directives that passed.
    pub notes: Vec<Note>,
    /// Number of directives not run because the caller excluded them.
    pub skipped: usize,
}

impl Report {
    /// Number of directives that failed.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }

    /// Total number of directives run (skipped ones excluded).
    pub fn total(&self) -> usize {
        self.passed + self.failed()
    }

    /// Whether every directive passed.
    pub fn is_success(&self) -> bool {
        self.failures.is_empty()
    }
}

impl fmt::Display for Report {
    /// One line per failure (`name:line:col: directive: reason`), then
    /// `name: P passed, F failed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for failure in &self.failures {
            writeln!(f, "{}:{failure}", self.name)?;
        }
        write!(
            f,
            "{}: {} passed, {} failed",
            self.name,
            self.passed,
            self.failed()
        )
    }
}
