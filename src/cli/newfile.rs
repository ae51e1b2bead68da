//! The new files that `convert`, `compact`, `relink` and `repair` write: never over an input,
//! never over an existing file without `--force`, written to a temporary file beside the output
//! and renamed when complete, the partial file removed on any failure, and on Ctrl-C (or a
//! termination signal: the first one stops the work at the next write, a second one ends the
//! program at once, leaving the partial file).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use vhd_viewer::error::write::Refusal;
use vhd_viewer::error::WriteError;
use vhd_viewer::values::{Timestamp, Uuid, VHD_EPOCH_UNIX};
use vhd_viewer::vhd::writer::WriteAt;
use vhd_viewer::Error;

/// From now on, Ctrl-C, SIGTERM and SIGHUP set the returned flag instead of ending the program;
/// a second one ends it as usual.
pub(super) fn watch_interrupts() -> Result<Arc<AtomicBool>, Error> {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        // The default action runs when the flag is already set (the second signal); the first
        // only sets it.
        signal_hook::flag::register_conditional_default(sig, Arc::clone(&stop))
            .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&stop)))
            .map_err(|e| Error::Io { offset: 0, message: format!("cannot watch for Ctrl-C: {e}") })?;
    }
    Ok(stop)
}

/// A file of the inputs: device, inode, and the name to show.
pub type Identity = (u64, u64, String);

/// The device and inode of an opened input.
pub fn identity(file: &File, name: &str) -> Result<Identity, Error> {
    let m = file.metadata().map_err(|e| Error::Io { offset: 0, message: format!("{name}: {e}") })?;
    Ok((m.dev(), m.ino(), name.to_string()))
}

/// A new file being written: the temporary file beside the destination.
pub struct NewFile {
    dest: PathBuf,
    tmp: PathBuf,
    /// The temporary file (written through [`NewFile::writer`]).
    pub file: File,
    stop: Arc<AtomicBool>,
    /// A write that failed after its writer returned (reported by [`NewFile::commit`]).
    failed: Option<Error>,
    done: bool,
}

/// Writes in flight at most, each at most the size the core hands over (1 MiB windows).
const IN_FLIGHT: usize = 4;

/// What the writing thread is asked to do.
enum Job {
    Write(u64, Vec<u8>),
    SetLen(u64),
}

/// The temporary file as the core writes it: every write first checks for Ctrl-C, then goes to
/// a thread of its own, so that the core reads (and checks) the next window while the last one
/// is written, as `qemu-img` overlaps its requests. At most [`IN_FLIGHT`] writes wait, their
/// buffers reused; the writes are done, in order, when the writer is dropped.
pub struct Writer<'a> {
    new: &'a mut NewFile,
    jobs: Option<SyncSender<Job>>,
    spent: Receiver<Vec<u8>>,
    thread: Option<JoinHandle<Result<(), Error>>>,
}

impl Writer<'_> {
    fn interrupted(&self, offset: u64) -> Result<(), Error> {
        if self.new.stop.load(Ordering::SeqCst) {
            return Err(Error::Io { offset, message: "interrupted (Ctrl-C or a termination signal); the partial file is removed".into() });
        }
        Ok(())
    }

    /// Hands `job` to the thread; when the thread has stopped on an error, that error.
    fn send(&mut self, job: Job) -> Result<(), Error> {
        if self.jobs.as_ref().is_some_and(|t| t.send(job).is_ok()) {
            return Ok(());
        }
        let why = self.finish().err().or_else(|| self.new.failed.take());
        Err(why.unwrap_or_else(|| Error::Io { offset: 0, message: "the writing thread stopped".into() }))
    }

    /// Waits for every write handed over, and gives the first error.
    fn finish(&mut self) -> Result<(), Error> {
        self.jobs = None;
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(Error::Io { offset: 0, message: "the writing thread panicked".into() }),
            None => Ok(()),
        }
    }
}

impl WriteAt for Writer<'_> {
    fn write_at(&mut self, offset: u64, bytes: &[u8]) -> vhd_viewer::Result<()> {
        self.interrupted(offset)?;
        let mut buf = self.spent.try_recv().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(bytes);
        self.send(Job::Write(offset, buf))
    }
    fn set_len(&mut self, len: u64) -> vhd_viewer::Result<()> {
        self.interrupted(len)?;
        self.send(Job::SetLen(len))
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        if let Err(e) = self.finish() {
            self.new.failed.get_or_insert(e);
        }
    }
}

fn refuse(dest: &Path, why: Refusal) -> Error {
    WriteError::OutputRefused { dest: dest.display().to_string(), why }.into()
}

impl NewFile {
    /// Checks `dest` against the inputs and `force`, then creates the temporary file. Nothing is
    /// written anywhere when this fails.
    pub fn create(dest: &Path, inputs: &[Identity], force: bool) -> Result<NewFile, Error> {
        // The destination as it resolves now (through symbolic links): the same device and inode
        // as an input means the same file, whatever the names (hard links too).
        if let Ok(m) = std::fs::metadata(dest) {
            if let Some((_, _, name)) = inputs.iter().find(|(dev, ino, _)| *dev == m.dev() && *ino == m.ino()) {
                return Err(refuse(dest, Refusal::SameAsInput { input: name.clone(), dev: m.dev(), ino: m.ino() }));
            }
            if m.is_dir() {
                return Err(refuse(dest, Refusal::Folder));
            }
        }
        if !force && std::fs::symlink_metadata(dest).is_ok() {
            return Err(refuse(dest, Refusal::Exists));
        }
        let name = dest.file_name().ok_or_else(|| refuse(dest, Refusal::NotAFile))?;
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = dir.join(format!(".{}.vhd-viewer-{}.part", name.to_string_lossy(), std::process::id()));
        // Watched before the partial file exists, so that no signal can leave it behind.
        let stop = watch_interrupts()?;
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| Error::Io { offset: 0, message: format!("cannot create {}: {e}", tmp.display()) })?;
        Ok(NewFile { dest: dest.to_path_buf(), tmp, file, stop, failed: None, done: false })
    }

    /// The temporary file to write into, watching for Ctrl-C, its writes done by a thread.
    pub fn writer(&mut self) -> Writer<'_> {
        let (jobs, todo) = std::sync::mpsc::sync_channel::<Job>(IN_FLIGHT);
        let (give_back, spent) = std::sync::mpsc::channel();
        let file =
            self.file.try_clone().map_err(|e| Error::Io { offset: 0, message: format!("cannot open the output again to write it: {e}") });
        let thread = file.map_err(|e| self.failed = Some(e)).ok().map(|mut file| {
            std::thread::spawn(move || {
                for job in todo {
                    match job {
                        Job::Write(offset, buf) => {
                            file.write_at(offset, &buf)?;
                            let _ = give_back.send(buf);
                        }
                        Job::SetLen(len) => WriteAt::set_len(&mut file, len)?,
                    }
                }
                Ok(())
            })
        });
        let jobs = thread.as_ref().map(|_| jobs);
        Writer { new: self, jobs, spent, thread }
    }

    /// Flushes the file to the disk and renames it to its destination.
    pub fn commit(mut self) -> Result<(), Error> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        let io = |what: &str, e: std::io::Error| Error::Io { offset: 0, message: format!("{what} {}: {e}", self.tmp.display()) };
        self.file.sync_all().map_err(|e| io("cannot flush", e))?;
        if self.stop.load(Ordering::SeqCst) {
            return Err(Error::Io {
                offset: 0,
                message: "interrupted (Ctrl-C or a termination signal); the partial file is removed".into(),
            });
        }
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| io("cannot rename", e))?;
        self.done = true;
        Ok(())
    }

    /// Where the file goes.
    pub fn dest(&self) -> &Path {
        &self.dest
    }
}

impl Drop for NewFile {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// A random unique id for a new disk (RFC 4122 version 4), from the system's random source.
pub fn random_id() -> Result<Uuid, Error> {
    use std::io::Read;
    let mut id = [0u8; 16];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut id))
        .map_err(|e| Error::Io { offset: 0, message: format!("cannot read /dev/urandom for a new unique id: {e}") })?;
    id[6] = (id[6] & 0x0f) | 0x40;
    id[8] = (id[8] & 0x3f) | 0x80;
    Ok(Uuid(id))
}

/// Now, as the format stores time (seconds since 2000-01-01 UTC).
pub fn now() -> Timestamp {
    let unix = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    Timestamp(u32::try_from(unix.saturating_sub(VHD_EPOCH_UNIX)).unwrap_or(u32::MAX))
}
