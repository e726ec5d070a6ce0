//! A harness for calling WASI functions from a `.wat` module: the module
//! imports each function from `wasi_snapshot_preview1` and exports a
//! wrapper of the same name, so a test can set up guest memory, call the
//! real import from wasm, and check the errno and what was written.

#![allow(dead_code)]

use kiln::{Engine, Instance, Linker, Memory, Module, Store, Val, ValType};
use kiln_wasi::{WasiCtx, WasiCtxBuilder};

/// `(name, params)`: `i` is an `i32`, `I` an `i64`. Every function but
/// `proc_exit` returns the errno as an `i32`.
pub const SIGNATURES: &[(&str, &str)] = &[
    ("args_get", "ii"),
    ("args_sizes_get", "ii"),
    ("environ_get", "ii"),
    ("environ_sizes_get", "ii"),
    ("clock_res_get", "ii"),
    ("clock_time_get", "iIi"),
    ("fd_advise", "iIIi"),
    ("fd_allocate", "iII"),
    ("fd_close", "i"),
    ("fd_datasync", "i"),
    ("fd_fdstat_get", "ii"),
    ("fd_fdstat_set_flags", "ii"),
    ("fd_fdstat_set_rights", "iII"),
    ("fd_filestat_get", "ii"),
    ("fd_filestat_set_size", "iI"),
    ("fd_filestat_set_times", "iIIi"),
    ("fd_pread", "iiiIi"),
    ("fd_prestat_get", "ii"),
    ("fd_prestat_dir_name", "iii"),
    ("fd_pwrite", "iiiIi"),
    ("fd_read", "iiii"),
    ("fd_readdir", "iiiIi"),
    ("fd_renumber", "ii"),
    ("fd_seek", "iIii"),
    ("fd_sync", "i"),
    ("fd_tell", "ii"),
    ("fd_write", "iiii"),
    ("path_create_directory", "iii"),
    ("path_filestat_get", "iiiii"),
    ("path_filestat_set_times", "iiiiIIi"),
    ("path_link", "iiiiiii"),
    ("path_open", "iiiiiIIii"),
    ("path_readlink", "iiiiii"),
    ("path_remove_directory", "iii"),
    ("path_rename", "iiiiii"),
    ("path_symlink", "iiiii"),
    ("path_unlink_file", "iii"),
    ("poll_oneoff", "iiii"),
    ("proc_exit", "i"),
    ("proc_raise", "i"),
    ("sched_yield", ""),
    ("random_get", "ii"),
    ("sock_accept", "iii"),
    ("sock_recv", "iiiiii"),
    ("sock_send", "iiiii"),
    ("sock_shutdown", "ii"),
];

/// Guest memory size: two pages.
pub const MEMORY_SIZE: u32 = 2 * 65536;
/// Where tests put small results (16 bytes each, 8-aligned).
pub const OUT: u32 = 64;
/// A second result slot.
pub const OUT2: u32 = 80;
/// A larger buffer (filestat, dirents, iovecs ...), 8 KiB.
pub const BUF: u32 = 4096;
const HEAP: u32 = 16384;

/// The text of the harness module.
pub fn harness_wat() -> String {
    let mut wat = String::from("(module\n");
    for (name, params) in SIGNATURES {
        let p: Vec<&str> = params
            .chars()
            .map(|c| if c == 'I' { "i64" } else { "i32" })
            .collect();
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        wat += &format!(
            "  (import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} (param {}) {result}))\n",
            p.join(" ")
        );
    }
    wat += "  (memory (export \"memory\") 2)\n";
    for (name, params) in SIGNATURES {
        let p: Vec<&str> = params
            .chars()
            .map(|c| if c == 'I' { "i64" } else { "i32" })
            .collect();
        let result = if *name == "proc_exit" {
            ""
        } else {
            "(result i32)"
        };
        let gets: String = (0..params.len())
            .map(|i| format!("(local.get {i}) "))
            .collect();
        wat += &format!(
            "  (func (export \"{name}\") (param {}) {result} (call ${name} {gets}))\n",
            p.join(" ")
        );
    }
    wat + ")\n"
}

/// An instantiated harness with its store.
pub struct Harness {
    pub store: Store<WasiCtx>,
    pub instance: Instance,
    pub memory: Memory,
    heap: u32,
}

impl Harness {
    /// Instantiates the harness with the context `builder` makes.
    pub fn new(builder: &mut WasiCtxBuilder) -> Harness {
        let engine = Engine::default();
        let module = Module::new(&engine, harness_wat()).expect("harness module");
        let mut linker: Linker<WasiCtx> = Linker::new(&engine);
        kiln_wasi::add_to_linker(&mut linker, |ctx| ctx).unwrap();
        let mut store = Store::new(&engine, builder.build());
        let instance = linker.instantiate(&mut store, &module).unwrap();
        let memory = instance.get_memory(&mut store, "memory").unwrap();
        Harness {
            store,
            instance,
            memory,
            heap: HEAP,
        }
    }

    /// Calls the wrapper `name`; arguments are converted to the parameter
    /// types. Returns the errno, or the call's error (such as `I32Exit`).
    pub fn try_call(&mut self, name: &str, args: &[u64]) -> anyhow::Result<i32> {
        let func = self.instance.get_func(&mut self.store, name).unwrap();
        let ty = func.ty(&self.store);
        let params: Vec<Val> = ty
            .params()
            .zip(args)
            .map(|(t, &a)| match t {
                ValType::I64 => Val::I64(a as i64),
                _ => Val::I32(a as u32 as i32),
            })
            .collect();
        assert_eq!(params.len(), args.len(), "argument count of {name}");
        let mut results = vec![Val::I32(0); ty.results().len()];
        func.call(&mut self.store, &params, &mut results)?;
        Ok(match results.first() {
            Some(Val::I32(x)) => *x,
            _ => 0,
        })
    }

    /// Calls `name` and returns its errno.
    pub fn call(&mut self, name: &str, args: &[u64]) -> i32 {
        self.try_call(name, args).unwrap()
    }

    /// Writes bytes into guest memory.
    pub fn write(&mut self, ptr: u32, bytes: &[u8]) {
        self.memory
            .write(&mut self.store, ptr as usize, bytes)
            .unwrap();
    }

    /// Reads bytes from guest memory.
    pub fn read(&self, ptr: u32, len: u32) -> Vec<u8> {
        let mut buf = vec![0; len as usize];
        self.memory
            .read(&self.store, ptr as usize, &mut buf)
            .unwrap();
        buf
    }

    pub fn u32(&self, ptr: u32) -> u32 {
        u32::from_le_bytes(self.read(ptr, 4).try_into().unwrap())
    }

    pub fn u64(&self, ptr: u32) -> u64 {
        u64::from_le_bytes(self.read(ptr, 8).try_into().unwrap())
    }

    /// Copies `bytes` to a fresh spot of guest memory: `(ptr, len)`.
    pub fn alloc(&mut self, bytes: &[u8]) -> (u64, u64) {
        let ptr = self.heap;
        self.heap += (bytes.len() as u32 + 8) & !7;
        assert!(self.heap < MEMORY_SIZE, "harness heap exhausted");
        self.write(ptr, bytes);
        (u64::from(ptr), bytes.len() as u64)
    }

    /// A string in guest memory: `(ptr, len)`.
    pub fn str(&mut self, s: &str) -> (u64, u64) {
        self.alloc(s.as_bytes())
    }

    /// Writes one iovec `{ptr, len}` at `at`.
    pub fn iovec(&mut self, at: u32, ptr: u32, len: u32) {
        let mut b = ptr.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        self.write(at, &b);
    }

    /// `path_open` relative to `dirfd`; `Ok(fd)` or `Err(errno)`.
    pub fn open(
        &mut self,
        dirfd: u32,
        lookup: u32,
        path: &str,
        oflags: u32,
        rights: u64,
        fdflags: u32,
    ) -> Result<u32, i32> {
        let (p, l) = self.str(path);
        let e = self.call(
            "path_open",
            &[
                dirfd.into(),
                lookup.into(),
                p,
                l,
                oflags.into(),
                rights,
                rights,
                fdflags.into(),
                OUT.into(),
            ],
        );
        if e == 0 { Ok(self.u32(OUT)) } else { Err(e) }
    }
}

/// Errno values the tests check.
pub mod errno {
    pub const SUCCESS: i32 = 0;
    pub const BADF: i32 = 8;
    pub const EXIST: i32 = 20;
    pub const FAULT: i32 = 21;
    pub const INVAL: i32 = 28;
    pub const ISDIR: i32 = 31;
    pub const LOOP: i32 = 32;
    pub const NAMETOOLONG: i32 = 37;
    pub const NOENT: i32 = 44;
    pub const NOSYS: i32 = 52;
    pub const NOTDIR: i32 = 54;
    pub const NOTEMPTY: i32 = 55;
    pub const SPIPE: i32 = 70;
    pub const NOTCAPABLE: i32 = 76;
}

/// All rights.
pub const ALL_RIGHTS: u64 = (1 << 30) - 1;
/// `fd_read | fd_seek | fd_tell | fd_filestat_get | fd_readdir`.
pub const READ_RIGHTS: u64 = (1 << 1) | (1 << 2) | (1 << 5) | (1 << 21) | (1 << 14);
