//! JavaScript binding of [`crate::timeline`] for the page's Timeline view: every file's and
//! directory's times on the volumes a `WasmVolumes` reads (a chain as of a layer, its BitLocker
//! volumes unlocked included: in the timeline's own Worker, with `WasmVolumes.unlockWith`), as compact columns (typed arrays, not one object per row, so that
//! 200,000 rows cross to the page quickly), and the body file and CSV as `vhd-viewer timeline
//! --bodyfile` / `--csv` write them.

use wasm_bindgen::prelude::*;

use crate::error::{Error, Result};
use crate::parts::Partition;
use crate::timeline::{self, Line, Source, MAX_LINES};
use crate::wasm::js_err;
use crate::wasm_diff::teller;
use crate::wasm_files::WasmVolumes;

/// Lines read between two calls of the progress function (called at each partition's first line too).
const PROGRESS_EVERY: usize = 1000;

impl WasmVolumes {
    /// Every readable partition's and LVM2 logical volume's lines with the position of its
    /// volume in `chosen` (the second answer), `progress(lines, 0)` told as they come (it stops
    /// the walk, error `cancelled`, by returning `false`).
    fn timeline_lines(&mut self, deleted: bool, progress: &js_sys::Function) -> Result<(Vec<Line>, Vec<u32>, Vec<Partition>)> {
        let table = self.table()?;
        let chosen: Vec<Partition> = table.partitions.iter().chain(&table.volume_partitions).filter(|p| p.readable()).cloned().collect();
        let (mut lines, mut of) = (Vec::new(), Vec::new());
        let mut tell = teller(progress);
        let mut stopped = false;
        let mut at = 0usize;
        self.with_reader(|r| {
            timeline::chain_lines(r, &chosen, deleted, &mut |p, l| {
                if lines.len() >= MAX_LINES {
                    return Err(Error::Usage { message: format!("the timeline stops at {MAX_LINES} lines") });
                }
                // The volumes are walked in `chosen`'s order.
                let first = !std::ptr::eq(&chosen[at], p);
                if first {
                    at = chosen.iter().position(|c| std::ptr::eq(c, p)).unwrap_or(at);
                }
                let told = lines.len() % PROGRESS_EVERY == 0 || first;
                lines.push(l);
                of.push(at as u32);
                if told && !tell(lines.len() as u64, 0) {
                    stopped = true;
                    return Ok(false);
                }
                Ok(true)
            })
        })?;
        if stopped {
            return Err(Error::Cancelled { what: "timeline" });
        }
        Ok((lines, of, chosen))
    }
}

/// Sets `obj[key] = value`.
fn set(obj: &js_sys::Object, key: &str, value: &JsValue) -> Result<(), JsValue> {
    js_sys::Reflect::set(obj, &JsValue::from_str(key), value).map(|_| ())
}

#[wasm_bindgen]
impl WasmVolumes {
    /// The timeline of every readable partition and LVM2 logical volume (deleted entries too with
    /// `deleted`), as columns: per body-file line `path`, `inode` (arrays of strings), `partition`
    /// (Uint32Array; a logical volume's: the partition of its first extent), `volume` (the
    /// logical volume's `VG/LV`, or null), `size`
    /// (Float64Array), `deleted` (Uint8Array, 1 deleted), `layer` (Int32Array, -1 none),
    /// `attribute` (Uint8Array: 0 none, 1 NTFS `$STANDARD_INFORMATION`, 2 `$FILE_NAME`); per row,
    /// sorted by time as `timeline --json` sorts them, `line` (Uint32Array, the line's index),
    /// `kind` (Uint8Array: 0 m, 1 a, 2 c, 3 b), `unix` (Float64Array, seconds) and `nanos`
    /// (Uint32Array). `progress(lines, 0)` as for `diffLayers`.
    pub fn timeline(&mut self, deleted: bool, progress: js_sys::Function) -> Result<JsValue, JsValue> {
        let (lines, of, chosen) = self.timeline_lines(deleted, &progress).map_err(js_err)?;
        let rows = timeline::sorted(&lines);
        let parts: Vec<u32> = of.iter().map(|&k| chosen[k as usize].index).collect();
        let volume: js_sys::Array = of.iter().map(|&k| chosen[k as usize].volume_name().map_or(JsValue::NULL, JsValue::from_str)).collect();
        let out = js_sys::Object::new();
        let strings = |f: &dyn Fn(&Line) -> &str| lines.iter().map(|l| JsValue::from_str(f(l))).collect::<js_sys::Array>();
        set(&out, "path", &strings(&|l| &l.path).into())?;
        set(&out, "inode", &strings(&|l| &l.inode).into())?;
        set(&out, "partition", &js_sys::Uint32Array::from(&parts[..]).into())?;
        set(&out, "volume", &volume.into())?;
        let size: Vec<f64> = lines.iter().map(|l| l.size as f64).collect();
        set(&out, "size", &js_sys::Float64Array::from(&size[..]).into())?;
        let del: Vec<u8> = lines.iter().map(|l| u8::from(l.deleted)).collect();
        set(&out, "deleted", &js_sys::Uint8Array::from(&del[..]).into())?;
        let layer: Vec<i32> = lines.iter().map(|l| l.layer.map_or(-1, |k| k as i32)).collect();
        set(&out, "layer", &js_sys::Int32Array::from(&layer[..]).into())?;
        let attr: Vec<u8> = lines
            .iter()
            .map(|l| match l.source {
                Source::Si => 1,
                Source::Fn => 2,
                _ => 0,
            })
            .collect();
        set(&out, "attribute", &js_sys::Uint8Array::from(&attr[..]).into())?;
        let line: Vec<u32> = rows.iter().map(|r| r.0 as u32).collect();
        set(&out, "line", &js_sys::Uint32Array::from(&line[..]).into())?;
        let kind: Vec<u8> = rows.iter().map(|r| ["m", "a", "c", "b"].iter().position(|k| *k == r.1).unwrap_or(0) as u8).collect();
        set(&out, "kind", &js_sys::Uint8Array::from(&kind[..]).into())?;
        let (unix, nanos): (Vec<f64>, Vec<u32>) = rows.iter().map(|r| lines[r.0].time(r.1)).map(|(s, n)| (f64::from(s), n)).unzip();
        set(&out, "unix", &js_sys::Float64Array::from(&unix[..]).into())?;
        set(&out, "nanos", &js_sys::Uint32Array::from(&nanos[..]).into())?;
        Ok(out.into())
    }

    /// The timeline as a file's text: `body`, sleuthkit's body file in the order of the walk
    /// (`vhd-viewer timeline --bodyfile`), or `csv`, the rows sorted by time with a header
    /// (`--csv`). `deleted` and `progress` as for [`WasmVolumes::timeline`].
    #[wasm_bindgen(js_name = timelineText)]
    pub fn timeline_text(&mut self, deleted: bool, format: &str, progress: js_sys::Function) -> Result<String, JsValue> {
        let (lines, of, chosen) = self.timeline_lines(deleted, &progress).map_err(js_err)?;
        let mut out = String::new();
        match format {
            "body" => lines.iter().for_each(|l| {
                out.push_str(&l.body());
                out.push('\n');
            }),
            "csv" => {
                out.push_str(timeline::CSV_HEADER);
                out.push('\n');
                for (i, kind) in timeline::sorted(&lines) {
                    out.push_str(&timeline::csv(&timeline::row(chosen[of[i] as usize].index, &lines[i], kind)));
                    out.push('\n');
                }
            }
            _ => return Err(js_err(Error::Usage { message: "the timeline's formats are body and csv".into() })),
        }
        Ok(out)
    }
}
