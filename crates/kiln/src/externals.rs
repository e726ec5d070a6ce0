//! [`Extern`]: any importable or exportable item, and the memory, table and
//! global handles.

mod global;
mod memory;
mod table;

pub use global::Global;
pub use memory::Memory;
pub use table::Table;

use crate::func::Func;
use crate::runtime::StoreOpaque;
use crate::store::AsContext;
use crate::types::{ExternType, GlobalType, TableType};

/// An item a module can import or export.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Extern {
    /// A function.
    Func(Func),
    /// A table.
    Table(Table),
    /// A linear memory.
    Memory(Memory),
    /// A global.
    Global(Global),
    /// An exception tag.
    Tag(crate::Tag),
}

impl Extern {
    /// The function, if this is one.
    pub fn into_func(self) -> Option<Func> {
        match self {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    /// The table, if this is one.
    pub fn into_table(self) -> Option<Table> {
        match self {
            Extern::Table(t) => Some(t),
            _ => None,
        }
    }

    /// The memory, if this is one.
    pub fn into_memory(self) -> Option<Memory> {
        match self {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    /// The global, if this is one.
    pub fn into_global(self) -> Option<Global> {
        match self {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }

    /// The item's type (for tables and memories, with the current size as
    /// minimum).
    pub fn ty(&self, store: impl AsContext) -> ExternType {
        self.ty_in(&store.as_context().0.opaque)
    }

    pub(crate) fn ty_in(&self, store: &StoreOpaque) -> ExternType {
        match self {
            Extern::Func(f) => {
                store.check(f.store);
                ExternType::Func(store.func_type(f.index).clone())
            }
            Extern::Table(t) => {
                store.check(t.store);
                ExternType::Table(TableType::from_env(
                    &store.engine,
                    store.table(t.index).current_type(),
                ))
            }
            Extern::Memory(m) => {
                store.check(m.store);
                ExternType::Memory(store.memory(m.index).current_type().into())
            }
            Extern::Tag(t) => {
                store.check(t.store);
                ExternType::Tag(crate::TagType::new(store.tag_type(t.index).clone()))
            }
            Extern::Global(g) => {
                store.check(g.store);
                ExternType::Global(GlobalType::from_env(
                    &store.engine,
                    store.global(g.index).ty,
                ))
            }
        }
    }

    pub(crate) fn store_id(&self) -> crate::runtime::StoreId {
        match self {
            Extern::Func(f) => f.store,
            Extern::Table(t) => t.store,
            Extern::Memory(m) => m.store,
            Extern::Global(g) => g.store,
            Extern::Tag(t) => t.store,
        }
    }

    /// The tag, if this is one.
    pub fn into_tag(self) -> Option<crate::Tag> {
        match self {
            Extern::Tag(t) => Some(t),
            _ => None,
        }
    }
}

impl From<crate::Tag> for Extern {
    fn from(t: crate::Tag) -> Extern {
        Extern::Tag(t)
    }
}

impl From<Func> for Extern {
    fn from(f: Func) -> Extern {
        Extern::Func(f)
    }
}

impl From<Table> for Extern {
    fn from(t: Table) -> Extern {
        Extern::Table(t)
    }
}

impl From<Memory> for Extern {
    fn from(m: Memory) -> Extern {
        Extern::Memory(m)
    }
}

impl From<Global> for Extern {
    fn from(g: Global) -> Extern {
        Extern::Global(g)
    }
}
