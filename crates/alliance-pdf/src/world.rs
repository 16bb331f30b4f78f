//! A minimal, sealed typst [`World`]: one trusted template as `/main.typ`, the
//! data as `/data.json`, our embedded fonts, and nothing else. No file system,
//! no package downloads and no clock, so a render depends only on its inputs.

use std::sync::LazyLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use crate::PdfError;

/// The embedded font files (SIL Open Font License, see `fonts/OFL.txt`).
/// Embedded so that rendering never reads the system's fonts or the network.
/// Templates name the families "Noto Sans", "Noto Sans Hebrew" and "Noto Sans
/// Arabic", in that fallback order: Noto Sans covers Latin, Greek and
/// Cyrillic; the Hebrew and Arabic faces let right-to-left names print.
static FONT_FILES: [&[u8]; 5] = [
    include_bytes!("../fonts/NotoSans-Regular.ttf"),
    include_bytes!("../fonts/NotoSans-Bold.ttf"),
    include_bytes!("../fonts/NotoSans-Italic.ttf"),
    include_bytes!("../fonts/NotoSansHebrew-Regular.ttf"),
    include_bytes!("../fonts/NotoSansArabic-Regular.ttf"),
];

/// Fonts are parsed once per process and shared by every render (a `Font`
/// is a cheap reference-counted handle).
static FONTS: LazyLock<Vec<Font>> = LazyLock::new(|| {
    FONT_FILES
        .iter()
        .flat_map(|data| Font::iter(Bytes::new(*data)))
        .collect()
});

static BOOK: LazyLock<LazyHash<FontBook>> =
    LazyLock::new(|| LazyHash::new(FontBook::from_fonts(FONTS.iter())));

/// The standard library, built once. Templates get their data from
/// `/data.json`, so no `sys.inputs` are needed and the library can be shared.
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

/// Every code point that at least one embedded font can draw, sorted, for
/// [`is_covered`]. PDF/UA-1 forbids `.notdef` ("tofu") glyphs, so text is
/// checked against this before it reaches typst.
static COVERAGE: LazyLock<Vec<u32>> = LazyLock::new(|| {
    let mut all: Vec<u32> = FONTS
        .iter()
        .flat_map(|font| font.info().coverage.iter().collect::<Vec<_>>())
        .collect();
    all.sort_unstable();
    all.dedup();
    all
});

/// Whether one of the embedded fonts has a glyph for `c`.
pub(crate) fn is_covered(c: char) -> bool {
    COVERAGE.binary_search(&u32::from(c)).is_ok()
}

/// Parse the fonts now rather than in the first render (for warm-up at start-up).
pub(crate) fn warm_up() {
    LazyLock::force(&LIBRARY);
    LazyLock::force(&BOOK);
    LazyLock::force(&COVERAGE);
}

fn project_file(path: &str) -> Result<FileId, PdfError> {
    let vpath = VirtualPath::new(path).map_err(|_| PdfError::Internal("invalid virtual path"))?;
    Ok(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// One render's world: the template and its data, held in memory.
pub(crate) struct MemoryWorld {
    main: Source,
    data_id: FileId,
    data: Bytes,
}

impl MemoryWorld {
    /// Build a world whose `/main.typ` is `template` and `/data.json` is `data_json`.
    pub(crate) fn new(template: &str, data_json: Vec<u8>) -> Result<Self, PdfError> {
        let main_id = project_file("/main.typ")?;
        let data_id = project_file("/data.json")?;
        Ok(Self {
            main: Source::new(main_id, template.to_owned()),
            data_id,
            data: Bytes::new(data_json),
        })
    }

    /// The main source, to turn error spans into template line numbers.
    pub(crate) fn main_source(&self) -> &Source {
        &self.main
    }
}

impl World for MemoryWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &BOOK
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else if id == self.data_id {
            Err(FileError::NotSource)
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else if id == self.main.id() {
            Ok(Bytes::from_string(self.main.text().to_owned()))
        } else {
            // No other files, and no packages: nothing is ever fetched.
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.get(index).cloned()
    }

    /// No clock: `datetime.today()` fails, so output never depends on the day
    /// it was rendered. Dates come in with the data, already formatted.
    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}
