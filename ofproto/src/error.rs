//! OpenFlow error types and codes (`ofp_error_type` and the per-type code enums)
//! and [`WireError`], the typed result of every decode failure.
//!
//! A decode failure always names the `OFPT_ERROR` (type, code) a switch must answer
//! with, so the datapath never has to guess how to report a bad message.

use std::borrow::Cow;
use std::fmt;

/// An OpenFlow error (type, code) pair as carried by `OFPT_ERROR`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct ErrorCode {
    pub ty: u16,
    pub code: u16,
}

impl ErrorCode {
    pub const fn new(ty: u16, code: u16) -> Self {
        ErrorCode { ty, code }
    }

    /// The spec name of the type, e.g. `OFPET_BAD_MATCH`; `None` for unknown types.
    pub fn type_name(self) -> Option<&'static str> {
        ERROR_TYPE_NAMES
            .iter()
            .find(|(t, _)| *t == self.ty)
            .map(|(_, n)| *n)
    }

    /// The spec name of the code, e.g. `OFPBMC_BAD_PREREQ`; `None` for unknown codes.
    pub fn code_name(self) -> Option<&'static str> {
        ERROR_CODE_NAMES
            .iter()
            .find(|(c, _)| *c == self)
            .map(|(_, n)| *n)
    }

    /// Looks a code up by its spec name (`OFPBMC_BAD_PREREQ`).
    pub fn from_code_name(name: &str) -> Option<ErrorCode> {
        ERROR_CODE_NAMES
            .iter()
            .find(|(_, n)| n.eq_ignore_ascii_case(name))
            .map(|(c, _)| *c)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.type_name(), self.code_name()) {
            (Some(t), Some(c)) => write!(f, "{t} {c}"),
            (Some(t), None) => write!(f, "{t} code={}", self.code),
            _ => write!(f, "type={} code={}", self.ty, self.code),
        }
    }
}

macro_rules! error_codes {
    ( $( $ty_const:ident = $ty_val:expr => { $( $code:ident = $val:expr ),* $(,)? } )* ) => {
        $( pub const $ty_const: u16 = $ty_val; )*
        $( $( pub const $code: ErrorCode = ErrorCode::new($ty_val, $val); )* )*
        const ERROR_TYPE_NAMES: &[(u16, &str)] = &[ $( ($ty_val, stringify!($ty_const)), )* (0xffff, "OFPET_EXPERIMENTER") ];
        const ERROR_CODE_NAMES: &[(ErrorCode, &str)] = &[ $( $( ($code, stringify!($code)), )* )* ];
    };
}

error_codes! {
    OFPET_HELLO_FAILED = 0 => { OFPHFC_INCOMPATIBLE = 0, OFPHFC_EPERM = 1 }
    OFPET_BAD_REQUEST = 1 => {
        OFPBRC_BAD_VERSION = 0, OFPBRC_BAD_TYPE = 1, OFPBRC_BAD_MULTIPART = 2,
        OFPBRC_BAD_EXPERIMENTER = 3, OFPBRC_BAD_EXP_TYPE = 4, OFPBRC_EPERM = 5,
        OFPBRC_BAD_LEN = 6, OFPBRC_BUFFER_EMPTY = 7, OFPBRC_BUFFER_UNKNOWN = 8,
        OFPBRC_BAD_TABLE_ID = 9, OFPBRC_IS_SLAVE = 10, OFPBRC_BAD_PORT = 11,
        OFPBRC_BAD_PACKET = 12, OFPBRC_MULTIPART_BUFFER_OVERFLOW = 13,
    }
    OFPET_BAD_ACTION = 2 => {
        OFPBAC_BAD_TYPE = 0, OFPBAC_BAD_LEN = 1, OFPBAC_BAD_EXPERIMENTER = 2,
        OFPBAC_BAD_EXP_TYPE = 3, OFPBAC_BAD_OUT_PORT = 4, OFPBAC_BAD_ARGUMENT = 5,
        OFPBAC_EPERM = 6, OFPBAC_TOO_MANY = 7, OFPBAC_BAD_QUEUE = 8,
        OFPBAC_BAD_OUT_GROUP = 9, OFPBAC_MATCH_INCONSISTENT = 10,
        OFPBAC_UNSUPPORTED_ORDER = 11, OFPBAC_BAD_TAG = 12, OFPBAC_BAD_SET_TYPE = 13,
        OFPBAC_BAD_SET_LEN = 14, OFPBAC_BAD_SET_ARGUMENT = 15,
    }
    OFPET_BAD_INSTRUCTION = 3 => {
        OFPBIC_UNKNOWN_INST = 0, OFPBIC_UNSUP_INST = 1, OFPBIC_BAD_TABLE_ID = 2,
        OFPBIC_UNSUP_METADATA = 3, OFPBIC_UNSUP_METADATA_MASK = 4,
        OFPBIC_BAD_EXPERIMENTER = 5, OFPBIC_BAD_EXP_TYPE = 6, OFPBIC_BAD_LEN = 7,
        OFPBIC_EPERM = 8,
    }
    OFPET_BAD_MATCH = 4 => {
        OFPBMC_BAD_TYPE = 0, OFPBMC_BAD_LEN = 1, OFPBMC_BAD_TAG = 2,
        OFPBMC_BAD_DL_ADDR_MASK = 3, OFPBMC_BAD_NW_ADDR_MASK = 4,
        OFPBMC_BAD_WILDCARDS = 5, OFPBMC_BAD_FIELD = 6, OFPBMC_BAD_VALUE = 7,
        OFPBMC_BAD_MASK = 8, OFPBMC_BAD_PREREQ = 9, OFPBMC_DUP_FIELD = 10,
        OFPBMC_EPERM = 11,
    }
    OFPET_FLOW_MOD_FAILED = 5 => {
        OFPFMFC_UNKNOWN = 0, OFPFMFC_TABLE_FULL = 1, OFPFMFC_BAD_TABLE_ID = 2,
        OFPFMFC_OVERLAP = 3, OFPFMFC_EPERM = 4, OFPFMFC_BAD_TIMEOUT = 5,
        OFPFMFC_BAD_COMMAND = 6, OFPFMFC_BAD_FLAGS = 7,
    }
    OFPET_GROUP_MOD_FAILED = 6 => {
        OFPGMFC_GROUP_EXISTS = 0, OFPGMFC_INVALID_GROUP = 1,
        OFPGMFC_WEIGHT_UNSUPPORTED = 2, OFPGMFC_OUT_OF_GROUPS = 3,
        OFPGMFC_OUT_OF_BUCKETS = 4, OFPGMFC_CHAINING_UNSUPPORTED = 5,
        OFPGMFC_WATCH_UNSUPPORTED = 6, OFPGMFC_LOOP = 7, OFPGMFC_UNKNOWN_GROUP = 8,
        OFPGMFC_CHAINED_GROUP = 9, OFPGMFC_BAD_TYPE = 10, OFPGMFC_BAD_COMMAND = 11,
        OFPGMFC_BAD_BUCKET = 12, OFPGMFC_BAD_WATCH = 13, OFPGMFC_EPERM = 14,
    }
    OFPET_PORT_MOD_FAILED = 7 => {
        OFPPMFC_BAD_PORT = 0, OFPPMFC_BAD_HW_ADDR = 1, OFPPMFC_BAD_CONFIG = 2,
        OFPPMFC_BAD_ADVERTISE = 3, OFPPMFC_EPERM = 4,
    }
    OFPET_TABLE_MOD_FAILED = 8 => {
        OFPTMFC_BAD_TABLE = 0, OFPTMFC_BAD_CONFIG = 1, OFPTMFC_EPERM = 2,
    }
    OFPET_QUEUE_OP_FAILED = 9 => {
        OFPQOFC_BAD_PORT = 0, OFPQOFC_BAD_QUEUE = 1, OFPQOFC_EPERM = 2,
    }
    OFPET_SWITCH_CONFIG_FAILED = 10 => {
        OFPSCFC_BAD_FLAGS = 0, OFPSCFC_BAD_LEN = 1, OFPSCFC_EPERM = 2,
    }
    OFPET_ROLE_REQUEST_FAILED = 11 => {
        OFPRRFC_STALE = 0, OFPRRFC_UNSUP = 1, OFPRRFC_BAD_ROLE = 2,
    }
    OFPET_METER_MOD_FAILED = 12 => {
        OFPMMFC_UNKNOWN = 0, OFPMMFC_METER_EXISTS = 1, OFPMMFC_INVALID_METER = 2,
        OFPMMFC_UNKNOWN_METER = 3, OFPMMFC_BAD_COMMAND = 4, OFPMMFC_BAD_FLAGS = 5,
        OFPMMFC_BAD_RATE = 6, OFPMMFC_BAD_BURST = 7, OFPMMFC_BAD_BAND = 8,
        OFPMMFC_BAD_BAND_VALUE = 9, OFPMMFC_OUT_OF_METERS = 10, OFPMMFC_OUT_OF_BANDS = 11,
    }
    OFPET_TABLE_FEATURES_FAILED = 13 => {
        OFPTFFC_BAD_TABLE = 0, OFPTFFC_BAD_METADATA = 1, OFPTFFC_BAD_TYPE = 2,
        OFPTFFC_BAD_LEN = 3, OFPTFFC_BAD_ARGUMENT = 4, OFPTFFC_EPERM = 5,
    }
}

/// `OFPET_EXPERIMENTER`: the error type of experimenter errors.
pub const OFPET_EXPERIMENTER: u16 = 0xffff;

/// Why a message could not be decoded (or is not valid): the OpenFlow error a
/// switch answers with, plus a human-readable reason for logs and the CLI.
#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
#[error("{code}: {reason}")]
pub struct WireError {
    pub code: ErrorCode,
    pub reason: Cow<'static, str>,
}

impl WireError {
    pub fn new(code: ErrorCode, reason: impl Into<Cow<'static, str>>) -> Self {
        WireError {
            code,
            reason: reason.into(),
        }
    }

    /// Input ended before `what` was complete: `need` bytes were needed, `have` remained.
    pub fn truncated(code: ErrorCode, what: &str, need: usize, have: usize) -> Self {
        WireError::new(
            code,
            format!("truncated {what}: needs {need} bytes, only {have} left"),
        )
    }

    /// The same failure reported under another (more specific) code.
    pub fn with_code(mut self, code: ErrorCode) -> Self {
        self.code = code;
        self
    }
}

impl<'a> nom::error::ParseError<&'a [u8]> for WireError {
    /// A nom primitive (e.g. `be_u16`) ran out of input: report a length error
    /// for the request; callers that know better re-code it.
    fn from_error_kind(input: &'a [u8], kind: nom::error::ErrorKind) -> Self {
        WireError::new(
            OFPBRC_BAD_LEN,
            format!(
                "message too short ({} bytes left, {:?} failed)",
                input.len(),
                kind
            ),
        )
    }

    fn append(_input: &'a [u8], _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

impl From<nom::Err<WireError>> for WireError {
    fn from(e: nom::Err<WireError>) -> Self {
        match e {
            nom::Err::Error(e) | nom::Err::Failure(e) => e,
            nom::Err::Incomplete(_) => WireError::new(OFPBRC_BAD_LEN, "message too short"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_both_ways() {
        assert_eq!(
            OFPBMC_BAD_PREREQ.to_string(),
            "OFPET_BAD_MATCH OFPBMC_BAD_PREREQ"
        );
        assert_eq!(
            ErrorCode::from_code_name("OFPBRC_BAD_LEN"),
            Some(OFPBRC_BAD_LEN)
        );
        assert_eq!(ErrorCode::new(4, 99).code_name(), None);
        assert_eq!(
            ErrorCode::new(0xffff, 1).type_name(),
            Some("OFPET_EXPERIMENTER")
        );
    }
}
