//! Where the golden OpenFlow vectors live, for unit tests: `$OF13_VECTORS`, or
//! `../shared/of13-vectors/of13` beside the repository (as laid out for
//! developers and CI). Tests fail loudly when the folder is missing.

use std::path::PathBuf;

/// The `of13` folder (holding `packet/` and `json/`).
pub(crate) fn of13_dir() -> PathBuf {
    std::env::var_os("OF13_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/of13-vectors/of13"
            ))
        })
}

/// The bytes of `of13/packet/NAME`, panicking with a clear message if absent.
pub(crate) fn of13_packet(name: &str) -> Vec<u8> {
    let p = of13_dir().join("packet").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("golden vector {} missing: {e}", p.display()))
}
