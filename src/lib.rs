//! # vhd-viewer
//!
//! Reads Microsoft VHD and VHDX disk images (fixed, dynamic and differencing) as described by
//! the *Virtual Hard Disk Image Format Specification* and *[MS-VHDX]*: every structure with the
//! file offset it was found at, integrity findings, and the virtual disk's bytes through a chain
//! of differencing disks, with the layer that supplies each sector. Each format has its folder
//! ([`vhd`], [`vhdx`]) over the format-neutral types of [`image`]; [`layer::Layer`] puts one type
//! over both, which the rest of the core uses.
//!
//! The core does no I/O. [`layer::Opener`] and [`disk::Disk::plan`] say which byte ranges they
//! need and are handed the bytes; [`reader`] is a synchronous driver over anything with
//! [`reader::ReadAt`], and the web page drives the same core asynchronously from `Blob.slice()`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bitlocker;
pub mod bytes;
pub mod chains;
pub mod check;
pub mod compact;
pub mod convert;
pub mod crc32c;
pub mod diff;
pub mod disk;
pub mod draw;
pub mod error;
pub mod fields;
pub mod finding;
pub mod fit;
pub mod folder;
pub mod fs;
pub mod image;
pub mod info;
pub mod inspect;
pub mod layer;
pub mod layer_check;
pub mod lvm;
pub mod newdisk;
pub mod parts;
pub mod plan;
pub mod provenance;
pub mod reader;
pub mod registry;
pub mod relink;
pub mod repair;
pub mod report;
pub mod resize;
pub mod rules;
pub mod search;
pub mod timeline;
pub mod trim;
pub mod values;
pub mod vhd;
pub mod vhdx;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
mod wasm_copy;
#[cfg(target_arch = "wasm32")]
mod wasm_diff;
#[cfg(target_arch = "wasm32")]
mod wasm_draw;
#[cfg(target_arch = "wasm32")]
mod wasm_files;
#[cfg(target_arch = "wasm32")]
mod wasm_folder;
#[cfg(target_arch = "wasm32")]
mod wasm_search;
#[cfg(target_arch = "wasm32")]
mod wasm_timeline;

pub use disk::{Disk, Extent, Source};
pub use error::{Error, Result};
pub use finding::{Finding, Severity};
pub use image::ByteRange;
pub use layer::Layer;
