//! The model files compiled into the library, so the binary works outside the repository.

use super::{Error, VendorModel, load_model, parse_model};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

macro_rules! embedded_models {
    ($($id:literal),* $(,)?) => {
        &[$(($id, include_str!(concat!("../../vendor-models/", $id, ".ron")))),*]
    };
}

/// `(id, RON text)` of every model in `vendor-models/`, in catalogue order.
static SOURCES: &[(&str, &str)] = embedded_models![
    "avaya-aura-sm-6.1",
    "avaya-aura-sm-6.3",
    "cisco-ucm-8.6.2",
    "cisco-ucm-7.0.1",
    "siemens-openscape-voice-6",
    "alcatel-oxe-r9.1",
    "avaya-aura-sm-6.0.1",
    "avaya-cm-ses-5.2.1",
    "cisco-ucm-8.5.1",
    "cisco-ucm-8.0.3",
    "cisco-ucm-4.2-7.1.3",
    "cisco-ucm-6.1.1",
    "seltatel-samoffice-4",
    "nortel-cs1000",
    "aastra-mx-one-4.1",
    "aculab-applianx",
    "audiocodes-mediant-1000",
    "audiocodes-mediant-2000",
    "audiocodes-mediant-2000-hybrid",
    "cisco-isr-2851",
    "cisco-isr-3845",
    "dialogic-2000",
    "dialogic-4000",
    "ferrari-officemaster-gate",
    "nec-sv70",
    "net-vx1200",
    "nortel-sr4134",
    "nuera-gx-1k",
    "nuera-gx-2k",
    "tango-abrazo",
    "quintum-tenor-dx",
    "quintum-tenor-hybrid-60",
    "vegastream-vega400",
];

/// `(id, RON text)` of every embedded model file.
pub fn builtin_sources() -> &'static [(&'static str, &'static str)] {
    SOURCES
}

/// Every embedded model, parsed and validated, in catalogue order.
pub fn builtin_models() -> &'static [VendorModel] {
    static MODELS: OnceLock<Vec<VendorModel>> = OnceLock::new();
    MODELS.get_or_init(|| {
        SOURCES
            .iter()
            .map(|(id, text)| {
                let path = PathBuf::from(format!("vendor-models/{id}.ron"));
                // Invariant: the embedded files are the repository's model files, and the
                // integration test `vendor_models` loads and validates every one of them.
                parse_model(&path, text)
                    .unwrap_or_else(|e| panic!("embedded model {id} is invalid:\n{e}"))
            })
            .collect()
    })
}

/// The embedded model with this product id.
pub fn lookup(id: &str) -> Result<&'static VendorModel, Error> {
    builtin_models()
        .iter()
        .find(|m| m.id == id)
        .ok_or_else(|| Error::UnknownModel { id: id.to_string() })
}

/// Resolves a MODEL argument of the command line: a path to a `.ron` file; else a product id,
/// read from `<dir>/<id>.ron` when that file exists (so edits in a checkout take effect), or
/// from the embedded copy. (The built-in `uas` is the elements layer's, not a vendor model.)
pub fn resolve(arg: &str, dir: &Path) -> Result<VendorModel, Error> {
    let as_path = Path::new(arg);
    if arg.ends_with(".ron") || as_path.components().count() > 1 {
        return load_model(as_path);
    }
    let file = dir.join(format!("{arg}.ron"));
    if file.is_file() {
        return load_model(&file);
    }
    lookup(arg).cloned()
}
