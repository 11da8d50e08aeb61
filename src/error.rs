//! One error type for the whole tool. Every error that reaches the user names
//! what is at fault (file, layer, feature), says what is wrong and what to do,
//! and maps to a documented exit code.

use std::fmt;

/// Exit codes, documented in README.md.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// Unexpected failure inside dongne (a bug: please report it).
    pub const INTERNAL: i32 = 1;
    /// Bad input or usage: a file, layer, field, CRS or parameter the user can fix.
    pub const INPUT: i32 = 2;
    /// The output could not be written (directory missing, not writable, disk full).
    pub const OUTPUT: i32 = 3;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    Input,
    Output,
    Internal,
}

/// An error with its context. Displayed as
/// `FILE (layer LAYER, feature FID): MESSAGE` followed by `hint: …`.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    pub file: Option<String>,
    pub layer: Option<String>,
    pub feature: Option<i64>,
    pub message: String,
    pub hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Input,
            file: None,
            layer: None,
            feature: None,
            message: message.into(),
            hint: None,
        }
    }
    pub fn output(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Output,
            ..Error::input(message)
        }
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Internal,
            ..Error::input(message)
        }
    }
    pub fn file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }
    pub fn layer(mut self, layer: impl Into<String>) -> Self {
        self.layer = Some(layer.into());
        self
    }
    pub fn feature(mut self, fid: i64) -> Self {
        self.feature = Some(fid);
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn exit_code(&self) -> i32 {
        match self.kind {
            ErrorKind::Input => exit::INPUT,
            ErrorKind::Output => exit::OUTPUT,
            ErrorKind::Internal => exit::INTERNAL,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}")?;
            let mut ctx = Vec::new();
            if let Some(l) = &self.layer {
                ctx.push(format!("layer '{l}'"));
            }
            if let Some(fid) = self.feature {
                ctx.push(format!("feature {fid}"));
            }
            if !ctx.is_empty() {
                write!(f, " ({})", ctx.join(", "))?;
            }
            write!(f, ": ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl From<gdal::errors::GdalError> for Error {
    fn from(e: gdal::errors::GdalError) -> Self {
        Error::input(format!("GDAL: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_layer_feature_and_hint() {
        let e = Error::input("geometry is a Point, expected a polygon")
            .file("dong.shp")
            .layer("dong")
            .feature(7)
            .hint("pass the polygon layer to --admin");
        assert_eq!(
            e.to_string(),
            "dong.shp (layer 'dong', feature 7): geometry is a Point, expected a polygon\n  hint: pass the polygon layer to --admin"
        );
        assert_eq!(e.exit_code(), 2);
    }
}
