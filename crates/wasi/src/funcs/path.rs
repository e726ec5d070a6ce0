//! The `path_*` functions.
//!
//! Every path is resolved beneath a directory fd by `cap-std` (with
//! `openat2(RESOLVE_BENEATH)` on Linux, component by component
//! elsewhere): `..` above the preopen, an absolute path, or a symlink that
//! leads outside (absolute or relative) is refused with `ENOTCAPABLE`, a
//! symlink loop is `ELOOP`. Before calling `cap-std` this module also
//! refuses absolute paths itself, refuses to create symlinks whose target
//! is absolute or climbs above the preopen, and refuses `path_link` with
//! `SYMLINK_FOLLOW` (`EINVAL`), so no link made here can point outside.

use super::WasiResult;
use super::fd::times;
use crate::ctx::WasiCtx;
use crate::errno::Errno;
use crate::fd_table::{DirFd, Entry, Kind};
use crate::memory::GuestMemory;
use crate::sys;
use crate::types::{LOOKUP_SYMLINK_FOLLOW, fdflags, oflags, rights};
use cap_fs_ext::{
    DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsMaybeDirExt, OpenOptionsSyncExt,
};
use cap_std::fs::{Dir, OpenOptions};
use std::path::{Component, Path};

/// The path argument at `ptr`: UTF-8 (`EILSEQ`), relative
/// (`ENOTCAPABLE`).
fn path_arg(mem: &GuestMemory<'_>, ptr: u32, len: u32) -> Result<String, Errno> {
    let p = mem.str(ptr, len)?;
    if p.starts_with('/') || Path::new(p).has_root() {
        return Err(Errno::Notcapable);
    }
    Ok(p.to_string())
}

/// The depth reached by following `path` lexically from `depth` below the
/// preopen; `None` if it climbs above it.
fn walk(mut depth: usize, path: &Path) -> Option<usize> {
    for c in path.components() {
        match c {
            Component::ParentDir => depth = depth.checked_sub(1)?,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(depth)
}

fn follow(lookupflags: u32) -> bool {
    lookupflags & LOOKUP_SYMLINK_FOLLOW != 0
}

/// `path_create_directory(fd, path, path_len)`.
pub(crate) fn path_create_directory(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
    len: u32,
) -> WasiResult {
    let d = ctx.table.dir(fd, rights::PATH_CREATE_DIRECTORY)?;
    let path = path_arg(mem, ptr, len)?;
    Ok(d.dir.create_dir(path)?)
}

/// `path_filestat_get(fd, flags, path, path_len, filestat_ptr)`; the
/// result is written only on success.
pub(crate) fn path_filestat_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
    ptr: u32,
    len: u32,
    out: u32,
) -> WasiResult {
    let d = ctx.table.dir(fd, rights::PATH_FILESTAT_GET)?;
    let path = path_arg(mem, ptr, len)?;
    mem.check(out, 1, 64)?;
    let meta = if follow(flags) {
        d.dir.metadata(path)?
    } else {
        d.dir.symlink_metadata(path)?
    };
    mem.write(out, &sys::filestat_of(&meta).encode())
}

/// `path_filestat_set_times(fd, flags, path, path_len, atim, mtim, fst_flags)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn path_filestat_set_times(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    flags: u32,
    ptr: u32,
    len: u32,
    atim: u64,
    mtim: u64,
    fst: u32,
) -> WasiResult {
    let d = ctx.table.dir(fd, rights::PATH_FILESTAT_SET_TIMES)?;
    let path = path_arg(mem, ptr, len)?;
    let (a, m) = times(atim, mtim, fst)?;
    if follow(flags) {
        d.dir.set_times(path, a, m)?;
    } else {
        d.dir.set_symlink_times(path, a, m)?;
    }
    Ok(())
}

/// `path_link(old_fd, old_flags, old_path, old_len, new_fd, new_path,
/// new_len)`: a hard link; following a symlink at the source is `EINVAL`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn path_link(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    old_fd: u32,
    old_flags: u32,
    old_ptr: u32,
    old_len: u32,
    new_fd: u32,
    new_ptr: u32,
    new_len: u32,
) -> WasiResult {
    let old = ctx.table.dir(old_fd, rights::PATH_LINK_SOURCE)?;
    let new = ctx.table.dir(new_fd, rights::PATH_LINK_TARGET)?;
    let old_path = path_arg(mem, old_ptr, old_len)?;
    let new_path = path_arg(mem, new_ptr, new_len)?;
    if follow(old_flags) {
        return Err(Errno::Inval);
    }
    Ok(old.dir.hard_link(old_path, &new.dir, new_path)?)
}

/// `path_open(fd, dirflags, path, path_len, oflags, rights_base,
/// rights_inheriting, fdflags, fd_ptr)`.
///
/// The new fd's rights are those asked for, narrowed to what the directory
/// passes on (its inheriting rights) and to what the opened object can
/// use. Asking for `fd_write` (or `APPEND`) where the directory does not
/// pass it on is `ENOTCAPABLE` at once, as are `O_CREAT` without
/// `path_create_file` and `O_TRUNC` without `path_filestat_set_size`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn path_open(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    dirfd: u32,
    dirflags: u32,
    ptr: u32,
    len: u32,
    oflags: u32,
    base: u64,
    inheriting: u64,
    fdflags: u32,
    fd_ptr: u32,
) -> WasiResult {
    let oflags = u16::try_from(oflags).map_err(|_| Errno::Inval)?;
    let fdflags = u16::try_from(fdflags).map_err(|_| Errno::Inval)?;
    if fdflags & !fdflags::ALL != 0 {
        return Err(Errno::Inval);
    }
    let parent = ctx.table.get(dirfd)?;
    let Kind::Dir(d) = &parent.kind else {
        return Err(Errno::Notdir);
    };
    let mut needed = rights::PATH_OPEN;
    if oflags & oflags::CREAT != 0 {
        needed |= rights::PATH_CREATE_FILE;
    }
    if oflags & oflags::TRUNC != 0 {
        needed |= rights::PATH_FILESTAT_SET_SIZE;
    }
    parent.require(needed)?;
    let path = path_arg(mem, ptr, len)?;
    mem.check(fd_ptr, 1, 4)?;
    let write = base & rights::FD_WRITE != 0 || fdflags & fdflags::APPEND != 0;
    if write && parent.rights_inheriting & rights::FD_WRITE == 0 {
        return Err(Errno::Notcapable);
    }
    let read = base & (rights::FD_READ | rights::FD_READDIR) != 0;
    let depth = walk(d.depth, Path::new(&path)).unwrap_or(0);
    let follow = follow(dirflags);

    let opened_dir = |dir: Dir| DirFd {
        dir,
        preopen: None,
        depth,
        listing: None,
    };
    let kind = if oflags & oflags::DIRECTORY != 0 {
        if oflags & (oflags::CREAT | oflags::EXCL | oflags::TRUNC) != 0 {
            return Err(Errno::Inval);
        }
        if write {
            return Err(Errno::Isdir);
        }
        let dir = if follow {
            d.dir.open_dir(&path)?
        } else {
            d.dir.open_dir_nofollow(&path)?
        };
        Kind::Dir(opened_dir(dir))
    } else {
        let creat = oflags & oflags::CREAT != 0;
        let excl = oflags & oflags::EXCL != 0;
        let trunc = oflags & oflags::TRUNC != 0;
        let append = fdflags & fdflags::APPEND != 0;
        // `OpenOptions` refuses append with truncate (`EINVAL`), which C's
        // `O_TRUNC | O_APPEND` asks for; such a file is opened to write
        // and truncate, and put in append mode once open.
        let append_later = append && trunc;
        let mut opts = OpenOptions::new();
        // Creating or truncating needs host write access even when the
        // guest did not ask to write; the fd still lacks `fd_write`.
        opts.read(read || !write)
            .write(write || creat || trunc)
            .append(append && !append_later)
            .create(creat && !excl)
            .create_new(creat && excl)
            .truncate(trunc);
        opts.follow(if follow {
            FollowSymlinks::Yes
        } else {
            FollowSymlinks::No
        });
        opts.maybe_dir(true);
        opts.sync(fdflags & fdflags::SYNC != 0)
            .dsync(fdflags & fdflags::DSYNC != 0)
            .rsync(fdflags & fdflags::RSYNC != 0)
            .nonblock(fdflags & fdflags::NONBLOCK != 0);
        let file = d.dir.open_with(&path, &opts)?;
        if file.metadata()?.is_dir() {
            if write {
                return Err(Errno::Isdir);
            }
            Kind::Dir(opened_dir(Dir::from_std_file(file.into_std())))
        } else {
            if append_later {
                sys::set_fd_flags(&file, true, fdflags & fdflags::NONBLOCK != 0)?;
            }
            Kind::File(file)
        }
    };
    let applicable = match kind {
        Kind::Dir(_) => rights::DIR,
        _ => rights::FILE,
    };
    let mut entry = Entry::new(
        kind,
        base & parent.rights_inheriting & applicable,
        inheriting & parent.rights_inheriting,
    );
    entry.flags = fdflags;
    let fd = ctx.table.push(entry)?;
    mem.write_u32(fd_ptr, fd)
}

/// `path_readlink(fd, path, path_len, buf, buf_len, bufused_ptr)`: the
/// link's contents, cut to `buf_len` bytes. A link whose contents are an
/// absolute path is not disclosed (`ENOTCAPABLE`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn path_readlink(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
    len: u32,
    buf: u32,
    buf_len: u32,
    used_ptr: u32,
) -> WasiResult {
    let d = ctx.table.dir(fd, rights::PATH_READLINK)?;
    let path = path_arg(mem, ptr, len)?;
    mem.check(buf, 1, buf_len)?;
    mem.check(used_ptr, 1, 4)?;
    let target = d.dir.read_link(path)?;
    let bytes = target.to_str().ok_or(Errno::Ilseq)?.as_bytes();
    let n = bytes.len().min(buf_len as usize);
    mem.write(buf, &bytes[..n])?;
    mem.write_u32(used_ptr, n as u32)
}

/// `path_remove_directory(fd, path, path_len)`.
pub(crate) fn path_remove_directory(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
    len: u32,
) -> WasiResult {
    let d = ctx.table.dir(fd, rights::PATH_REMOVE_DIRECTORY)?;
    let path = path_arg(mem, ptr, len)?;
    Ok(d.dir.remove_dir(path)?)
}

/// `path_rename(fd, old_path, old_len, new_fd, new_path, new_len)`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn path_rename(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    old_ptr: u32,
    old_len: u32,
    new_fd: u32,
    new_ptr: u32,
    new_len: u32,
) -> WasiResult {
    let old = ctx.table.dir(fd, rights::PATH_RENAME_SOURCE)?;
    let new = ctx.table.dir(new_fd, rights::PATH_RENAME_TARGET)?;
    let old_path = path_arg(mem, old_ptr, old_len)?;
    let new_path = path_arg(mem, new_ptr, new_len)?;
    Ok(old.dir.rename(old_path, &new.dir, new_path)?)
}

/// `path_symlink(old_path, old_len, fd, new_path, new_len)`: creates
/// `new_path` pointing at `old_path`. A target that is absolute, or that
/// climbs above the preopen from where the link is made, is refused with
/// `ENOTCAPABLE` (following it would be refused anyway; refusing it here
/// keeps the guest from planting links for other host programs).
pub(crate) fn path_symlink(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    old_ptr: u32,
    old_len: u32,
    fd: u32,
    new_ptr: u32,
    new_len: u32,
) -> WasiResult {
    let d = ctx.table.dir(fd, rights::PATH_SYMLINK)?;
    let target = path_arg(mem, old_ptr, old_len)?;
    let link = path_arg(mem, new_ptr, new_len)?;
    let link_dir = Path::new(&link).parent().unwrap_or(Path::new(""));
    walk(d.depth, link_dir)
        .and_then(|depth| walk(depth, Path::new(&target)))
        .ok_or(Errno::Notcapable)?;
    Ok(DirExt::symlink(&d.dir, target, link)?)
}

/// `path_unlink_file(fd, path, path_len)`: removes a file or a symlink.
pub(crate) fn path_unlink_file(
    ctx: &mut WasiCtx,
    mem: &mut GuestMemory<'_>,
    fd: u32,
    ptr: u32,
    len: u32,
) -> WasiResult {
    let d = ctx.table.dir(fd, rights::PATH_UNLINK_FILE)?;
    let path = path_arg(mem, ptr, len)?;
    Ok(d.dir.remove_file_or_symlink(path)?)
}

#[cfg(test)]
mod tests {
    use super::walk;
    use std::path::Path;

    #[test]
    fn lexical_depth() {
        assert_eq!(walk(0, Path::new("a/b/../c")), Some(2));
        assert_eq!(walk(0, Path::new("..")), None);
        assert_eq!(walk(1, Path::new("../x")), Some(1));
        assert_eq!(walk(1, Path::new("../../x")), None);
        assert_eq!(walk(0, Path::new("./a/./")), Some(1));
        assert_eq!(walk(3, Path::new("/etc")), None);
    }
}
