//! Finds and opens the files of a differencing chain.

use std::fs::File;
use std::path::{Path, PathBuf};

use vhd_viewer::disk::MAX_CHAIN_DEPTH;
use vhd_viewer::image::DiskType;
use vhd_viewer::reader::{open_layer, KnownLen, ReadAt};
use vhd_viewer::{Disk, Error, Finding, Layer};

/// An opened chain: the disk, its files and their names.
pub struct OpenChain {
    pub disk: Disk,
    pub names: Vec<String>,
    files: Vec<KnownLen<File>>,
    /// Findings about parents that could not be found.
    pub unresolved: Vec<Finding>,
    /// The layer of the whole chain that is layer 0 here (`--layer`).
    pub base: usize,
}

pub fn open_file(path: &Path) -> Result<(KnownLen<File>, Layer), Error> {
    let file = File::open(path).map_err(|e| Error::CannotOpen { file: path.display().to_string(), message: e.to_string() })?;
    let file = KnownLen::new(file);
    let layer = open_layer(&file)
        .map_err(|e| e.in_file(path.display().to_string(), vhd_viewer::chains::split_piece_note(&path.to_string_lossy())))?;
    Ok((file, layer))
}

/// The next piece of a split disk whose first piece is `path` (`name.v01` beside it).
pub fn split_next(path: &Path) -> Option<PathBuf> {
    ["v01", "V01"].iter().map(|e| path.with_extension(e)).find(|p| p.is_file())
}

/// A finding when `path` is the first piece of a split disk: `name.v01` lies beside it.
pub fn split_finding(path: &Path, layer: &Layer, index: usize) -> Option<Finding> {
    let next = split_next(path)?;
    Some(Finding {
        layer: index,
        severity: vhd_viewer::Severity::Error,
        code: "split-disk",
        offset: Some(layer.file_len),
        message: vhd_viewer::error::write::split_piece(&next.display().to_string(), layer.file_len),
    })
}

impl OpenChain {
    /// Opens `file` and its parents: those given, in order, else those its locators name.
    /// With `complete`, a parent that cannot be found is an error; otherwise it is a finding.
    pub fn open(file: &Path, parents: &[PathBuf], force: bool, complete: bool) -> Result<OpenChain, Error> {
        let (f, layer) = open_file(file)?;
        let mut unresolved: Vec<Finding> = split_finding(file, &layer, 0).into_iter().collect();
        let mut files = vec![f];
        let mut layers = vec![layer];
        let mut paths = vec![canonical(file)];
        let mut names = vec![file.display().to_string()];
        let mut given = parents.iter();
        while let Some(child) = layers.last().filter(|l| l.disk_type() == DiskType::Differencing) {
            if layers.len() >= MAX_CHAIN_DEPTH {
                return Err(vhd_viewer::disk::too_deep());
            }
            // The child's path as opened (relative paths stay relative in what is shown).
            let child_path = PathBuf::from(names.last().cloned().unwrap_or_default());
            let found = match given.next() {
                Some(p) => Some(p.clone()),
                None => find_parent(child, &child_path),
            };
            let Some(parent_path) = found else {
                let not_found = Error::ParentNotFound {
                    child: names.last().cloned().unwrap_or_default(),
                    name: child.parent_name(),
                    id_name: child.link_id_name(),
                    id: child.parent_link().map(|(_, shown)| shown).unwrap_or_default(),
                    tried: candidates(child, &child_path).iter().map(|p| p.display().to_string()).collect(),
                };
                if complete {
                    return Err(not_found);
                }
                let message = not_found.to_string();
                unresolved.push(Finding {
                    layer: layers.len() - 1,
                    severity: vhd_viewer::Severity::Error,
                    code: "parent-not-found",
                    offset: None,
                    message,
                });
                break;
            };
            let canon = canonical(&parent_path);
            if paths.contains(&canon) {
                return Err(Error::ChainLoop { how: format!("{} is its own ancestor", parent_path.display()) });
            }
            let (f, layer) = open_file(&parent_path)?;
            unresolved.extend(split_finding(&parent_path, &layer, layers.len()));
            files.push(f);
            layers.push(layer);
            paths.push(canon);
            names.push(parent_path.display().to_string());
        }
        if let Some(extra) = given.next() {
            let last = layers.last().map(|l| l.disk_type().name()).unwrap_or_default();
            return Err(Error::ParentNotExpected {
                child: names.last().cloned().unwrap_or_default(),
                disk_type: last,
                given: format!("{} (with --parent)", extra.display()),
            });
        }
        let disk = Disk::new(layers, force)?;
        Ok(OpenChain { disk, names, files, unresolved, base: 0 })
    }

    /// The chain as it was when layer `k` was the newest: layers `k..` only (see
    /// [`Disk::cut`]). `base` remembers `k`, so that output can number layers as the whole
    /// chain does.
    pub fn cut(mut self, k: usize) -> Result<OpenChain, Error> {
        if k == 0 {
            return Ok(self);
        }
        let disk = self.disk.cut(k)?;
        let unresolved = self
            .unresolved
            .into_iter()
            .filter(|f| f.layer >= k)
            .map(|mut f| {
                f.layer -= k;
                f
            })
            .collect();
        self.files.drain(..k);
        self.names.drain(..k);
        Ok(OpenChain { disk, names: self.names, files: self.files, unresolved, base: self.base + k })
    }

    /// The disk as of layer `k` and its files, without giving up the whole chain.
    pub fn cut_ref(&self, k: usize) -> Result<(Disk, Vec<&dyn ReadAt>), Error> {
        Ok((self.disk.cut(k)?, self.sources()[k..].to_vec()))
    }

    /// The device and inode of each file of the chain, to refuse writing over any of them.
    pub fn identities(&self) -> Vec<(u64, u64, String)> {
        use std::os::unix::fs::MetadataExt;
        self.files.iter().zip(&self.names).filter_map(|(f, n)| f.get_ref().metadata().ok().map(|m| (m.dev(), m.ino(), n.clone()))).collect()
    }

    /// The files' own names without their folders, as the page knows them: what `draw` and
    /// `report` show, so that they write the page's bytes wherever they are run from.
    pub fn file_names(&self) -> Vec<String> {
        self.names.iter().map(|n| Path::new(n).file_name().map_or(n.clone(), |f| f.to_string_lossy().into_owned())).collect()
    }

    /// The files, for a reader.
    pub fn sources(&self) -> Vec<&dyn ReadAt> {
        self.files.iter().map(|f| f as &dyn ReadAt).collect()
    }

    /// The files themselves, in the order of [`OpenChain::sources`]: `cat` has the kernel copy
    /// their bytes to its output.
    pub fn files(&self) -> Vec<&File> {
        self.files.iter().map(KnownLen::get_ref).collect()
    }
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// Where the parent may be, most trustworthy first, as paths on this machine.
fn candidates(child: &Layer, child_path: &Path) -> Vec<PathBuf> {
    let dir = child_path.parent().unwrap_or(Path::new("."));
    child.parent_candidates().into_iter().map(|c| if c.starts_with('/') { PathBuf::from(c) } else { dir.join(c) }).collect()
}

/// The first candidate that exists and whose unique id is the one the child names; failing
/// that, the first that exists (the unique id check then reports the mismatch).
fn find_parent(child: &Layer, child_path: &Path) -> Option<PathBuf> {
    let existing: Vec<PathBuf> = candidates(child, child_path).into_iter().filter(|p| p.is_file()).collect();
    existing.iter().find(|p| open_file(p).is_ok_and(|(_, l)| child.parent_matches(&l))).or(existing.first()).cloned()
}
