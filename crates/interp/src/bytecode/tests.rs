//! Unit tests of the op set: layout, tags, and the docs' op index.

#[test]
fn op_is_small() {
    assert!(core::mem::size_of::<super::Op>() <= 16);
}

/// The op index of `docs/bytecode.md`, as the op list makes it.
#[cfg(feature = "simd")]
fn op_index() -> alloc::string::String {
    use alloc::format;
    let mut s = alloc::string::String::from("| tag | op | operands |\n|---|---|---|\n");
    for c in super::OpCode::ALL {
        let operands = match c.operands() {
            "" => "–".into(),
            o => format!("`{}`", o.replace(", }", " }")),
        };
        let simd = if c.is_simd() { " (`simd`)" } else { "" };
        s += &format!("| {} | `{}`{simd} | {operands} |\n", c as u16, c.name());
    }
    s
}

/// `docs/bytecode.md` ends with the op index generated from the op
/// list, so the reference lists exactly the ops that exist, with their
/// tags and operands. `KILN_BLESS=1 cargo test -p kiln-interp --lib
/// op_index` rewrites it after a change to the op set.
#[test]
#[cfg(feature = "simd")]
fn docs_carry_the_op_index() {
    extern crate std;
    const BEGIN: &str =
        "<!-- op-index: generated from the op list by the test docs_carry_the_op_index -->\n";
    const END: &str = "<!-- op-index end -->\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/bytecode.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let want = op_index();
    let (start, end) = match (doc.find(BEGIN), doc.find(END)) {
        (Some(b), Some(e)) => (b + BEGIN.len(), e),
        _ => panic!("docs/bytecode.md has no op-index markers"),
    };
    if doc[start..end] != want {
        if std::env::var_os("KILN_BLESS").is_some() {
            let new = [&doc[..start], want.as_str(), &doc[end..]].concat();
            std::fs::write(path, new).unwrap();
        } else {
            panic!("docs/bytecode.md's op index is stale: rerun with KILN_BLESS=1");
        }
    }
}

#[test]
fn op_code_is_the_tag() {
    use super::{Bin, Op, OpCode};
    let b = Bin {
        dst: 1,
        lhs: 2,
        rhs: 3,
    };
    assert_eq!(Op::Unreachable.code(), OpCode::Unreachable);
    assert_eq!(Op::I32Add(b).code(), OpCode::I32Add);
    assert_eq!(Op::F64Copysign(b).code(), OpCode::F64Copysign);
    assert_eq!(Op::Const64 { dst: 9, value: 7 }.code(), OpCode::Const64);
    assert!(OpCode::I32Add as u16 > OpCode::Unreachable as u16);
}
