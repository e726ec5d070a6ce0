//! Executing the directives of a script.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use anyhow::{Context as _, anyhow};
use kiln::{Config, Engine, Instance, Linker, Module, Store, Trap, TrapCode, Val};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::Id;
use wast::{QuoteWat, QuoteWatTest, Wast, WastDirective, WastExecute, WastInvoke, Wat};

use crate::report::{Failure, Note, Report};
use crate::values::{arg_to_val, describe_val, match_result};

/// Runs `.wast` scripts against one [`Engine`].
///
/// The runner itself holds no per-script state: each call to
/// [`run_str`](WastRunner::run_str) or [`run_file`](WastRunner::run_file)
/// uses a fresh [`Store`] and [`Linker`] with the `spectest` module defined.
#[derive(Clone)]
pub struct WastRunner {
    engine: Engine,
}

impl WastRunner {
    /// Creates a runner whose modules are compiled by an engine built from
    /// `config`.
    pub fn new(config: &Config) -> kiln::Result<Self> {
        Ok(WastRunner {
            engine: Engine::new(config)?,
        })
    }

    /// Creates a runner on an existing engine.
    pub fn with_engine(engine: Engine) -> Self {
        WastRunner { engine }
    }

    /// The engine modules are compiled with.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Reads and runs the script at `path`; the report is named after the
    /// path. Fails only if the file cannot be read or parsed as a script;
    /// failing directives are recorded in the report.
    pub fn run_file(&self, path: impl AsRef<Path>) -> kiln::Result<Report> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        self.run_named(&path.display().to_string(), &text, &[])
    }

    /// Runs the script `text`, naming the report `name`. Fails only if the
    /// text cannot be parsed as a script; failing directives are recorded in
    /// the report.
    pub fn run_str(&self, name: &str, text: &str) -> kiln::Result<Report> {
        self.run_named(name, text, &[])
    }

    /// Like [`run_str`](WastRunner::run_str), but does not run the
    /// directives that start on the given (1-based) lines; they are counted
    /// in [`Report::skipped`]. For a test suite's list of excluded
    /// directives.
    pub fn run_str_skipping(
        &self,
        name: &str,
        text: &str,
        skip_lines: &[usize],
    ) -> kiln::Result<Report> {
        self.run_named(name, text, skip_lines)
    }

    fn run_named(&self, name: &str, text: &str, skip_lines: &[usize]) -> kiln::Result<Report> {
        let text = &*crate::legacy::unfold(text);
        let locate = |err: wast::Error| {
            let (line, col) = err.span().linecol_in(text);
            anyhow!(
                "failed to parse `{name}`: {name}:{}:{}: {}",
                line + 1,
                col + 1,
                err.message()
            )
        };
        let mut lexer = Lexer::new(text);
        // The spec suite deliberately uses bidirectional and other
        // "confusing" code points inside strings (names.wast).
        lexer.allow_confusing_unicode(true);
        let buf = ParseBuffer::new_with_lexer(lexer).map_err(locate)?;
        let wast = parser::parse::<Wast<'_>>(&buf).map_err(locate)?;

        let mut report = Report {
            name: name.to_string(),
            ..Report::default()
        };
        let mut script = Script::new(&self.engine)?;
        for directive in wast.directives {
            let (line, col) = directive.span().linecol_in(text);
            let (line, column) = (line + 1, col + 1);
            // A directive's span is its keyword, just after the paren.
            if skip_lines.contains(&line) {
                report.skipped += 1;
                continue;
            }
            let kind = directive_name(&directive);
            let outcome = catch_unwind(AssertUnwindSafe(|| script.run(directive))).unwrap_or_else(
                |payload| {
                    let msg = payload
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| payload.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "unknown panic payload".to_string());
                    Outcome::Fail(format!("panicked: {msg}"))
                },
            );
            match outcome {
                Outcome::Pass => report.passed += 1,
                Outcome::PassWithNote(text) => {
                    report.passed += 1;
                    report.notes.push(Note { line, column, text });
                }
                Outcome::Fail(reason) => report.failures.push(Failure {
                    line,
                    column,
                    directive: kind,
                    reason,
                }),
            }
        }
        Ok(report)
    }
}

/// The result of one directive.
enum Outcome {
    Pass,
    PassWithNote(String),
    Fail(String),
}

impl Outcome {
    fn from_result(r: Result<(), String>) -> Self {
        match r {
            Ok(()) => Outcome::Pass,
            Err(reason) => Outcome::Fail(reason),
        }
    }
}

fn directive_name(d: &WastDirective<'_>) -> &'static str {
    match d {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

/// The messages of `err`'s chain on one line, outermost first. Only the
/// first line of each is kept, so a trap's wasm backtrace (whose function
/// names could contain anything) never takes part in message matching.
fn chain_text(err: &anyhow::Error) -> String {
    err.chain()
        .map(|cause| {
            cause
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join(": ")
}

/// The error, shortened for a failure reason.
fn short(err: &anyhow::Error) -> String {
    chain_text(err)
}

/// The trap code a script's expected message denotes, if any. Scripts
/// sometimes append detail (`"uninitialized element 2"`), so the message
/// only has to start with the code's text.
fn expected_code(message: &str) -> Option<TrapCode> {
    TrapCode::ALL
        .iter()
        .copied()
        .find(|code| message.starts_with(code.message()))
}

/// Judges an error against an expected trap message.
///
/// * the expected text occurs in the error chain → pass;
/// * the error is a trap whose code differs from the code the expected text
///   names → fail;
/// * the error is a trap but the expected text names no known code → pass
///   with a note;
/// * the error is not a trap and the text does not match → fail.
fn judge_trap(err: &anyhow::Error, expected: &str) -> Outcome {
    let text = chain_text(err);
    if text.contains(expected) {
        return Outcome::Pass;
    }
    let Some(trap) = err.downcast_ref::<Trap>() else {
        return Outcome::Fail(format!(
            "expected trap `{expected}`, got error `{}`",
            short(err)
        ));
    };
    match (expected_code(expected), trap.code()) {
        (Some(want), Some(got)) if want == got => Outcome::Pass,
        (Some(_), _) => Outcome::Fail(format!(
            "expected trap `{expected}`, got trap `{}`",
            short(err)
        )),
        (None, _) => Outcome::PassWithNote(format!(
            "trapped with `{}`, script expected `{expected}`",
            short(err)
        )),
    }
}

/// Per-script state: one store, one linker, the named modules and
/// instances, and the most recently instantiated module.
struct Script {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    /// Modules compiled by `(module definition $name ...)`.
    definitions: HashMap<String, Module>,
    /// Instances named by `(module $name ...)` or `(module instance $name ...)`.
    instances: HashMap<String, Instance>,
    /// The instance unnamed invokes and registers refer to.
    current: Option<Instance>,
}

/// Encodes a script module to a binary. Text that fails to parse or encode
/// (e.g. in `module quote`) is an error.
fn encode(module: &mut QuoteWat<'_>) -> Result<Vec<u8>, String> {
    match module {
        QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_)) => {
            return Err("components are not supported".to_string());
        }
        _ => {}
    }
    match module.to_test() {
        Err(e) => Err(e.message()),
        Ok(QuoteWatTest::Binary(bytes)) => Ok(bytes),
        Ok(QuoteWatTest::Text(text)) => {
            let text =
                String::from_utf8(text).map_err(|_| "malformed UTF-8 encoding".to_string())?;
            let buf = ParseBuffer::new(&text).map_err(|e| e.message())?;
            let mut wat = parser::parse::<Wat<'_>>(&buf).map_err(|e| e.message())?;
            wat.encode().map_err(|e| e.message())
        }
    }
}

fn id_name(id: Option<Id<'_>>) -> Option<String> {
    id.map(|id| id.name().to_string())
}

impl Script {
    fn new(engine: &Engine) -> kiln::Result<Self> {
        let mut store = Store::new(engine, ());
        let mut linker = Linker::new(engine);
        // Scripts register several instances under the same name.
        linker.allow_shadowing(true);
        crate::spectest::define(&mut linker, &mut store)?;
        Ok(Script {
            engine: engine.clone(),
            store,
            linker,
            definitions: HashMap::new(),
            instances: HashMap::new(),
            current: None,
        })
    }

    fn run(&mut self, directive: WastDirective<'_>) -> Outcome {
        match directive {
            WastDirective::Module(mut module) => {
                let name = id_name(module.name());
                Outcome::from_result(self.module(name, &mut module))
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = id_name(module.name());
                Outcome::from_result(self.compile(&mut module).map(|m| {
                    if let Some(name) = name {
                        self.definitions.insert(name, m);
                    }
                }))
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => Outcome::from_result(self.module_instance(id_name(instance), id_name(module))),
            WastDirective::Register { name, module, .. } => {
                Outcome::from_result(self.register(name, module))
            }
            WastDirective::Invoke(invoke) => {
                Outcome::from_result(self.invoke(&invoke).map(|_| ()).map_err(|e| short(&e)))
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                let actual = match self.execute(exec) {
                    Ok(Ok(values)) => values,
                    Ok(Err(e)) => return Outcome::Fail(format!("unexpected error: {}", short(&e))),
                    Err(reason) => return Outcome::Fail(reason),
                };
                Outcome::from_result(self.check_results(&actual, &results))
            }
            WastDirective::AssertTrap { exec, message, .. } => match self.execute(exec) {
                Err(reason) => Outcome::Fail(reason),
                Ok(Ok(values)) => Outcome::Fail(format!(
                    "expected trap `{message}`, got {}",
                    self.describe_all(&values)
                )),
                Ok(Err(e)) => judge_trap(&e, message),
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call) {
                Ok(values) => Outcome::Fail(format!(
                    "expected exhaustion `{message}`, got {}",
                    self.describe_all(&values)
                )),
                Err(e) => {
                    let stack = e
                        .downcast_ref::<Trap>()
                        .is_some_and(|t| t.code() == Some(TrapCode::StackOverflow));
                    if stack || chain_text(&e).contains(message) {
                        Outcome::Pass
                    } else {
                        Outcome::Fail(format!(
                            "expected exhaustion `{message}`, got `{}`",
                            short(&e)
                        ))
                    }
                }
            },
            WastDirective::AssertInvalid { mut module, .. }
            | WastDirective::AssertMalformed { mut module, .. } => {
                match encode(&mut module) {
                    // The text itself did not parse or encode: rejected.
                    Err(_) => Outcome::Pass,
                    Ok(bytes) => match Module::new(&self.engine, &bytes) {
                        Ok(_) => Outcome::Fail("module was accepted".to_string()),
                        Err(_) => Outcome::Pass,
                    },
                }
            }
            WastDirective::AssertUnlinkable {
                module, message, ..
            } => {
                let mut module = QuoteWat::Wat(module);
                let compiled = match self.compile(&mut module) {
                    Ok(m) => m,
                    Err(reason) => return Outcome::Fail(reason),
                };
                match self.linker.instantiate(&mut self.store, &compiled) {
                    Ok(_) => Outcome::Fail(format!(
                        "expected link error `{message}`, module instantiated"
                    )),
                    Err(e) if chain_text(&e).contains(message) => Outcome::Pass,
                    Err(e) if e.downcast_ref::<Trap>().is_some() => Outcome::Fail(format!(
                        "expected link error `{message}`, got trap `{}`",
                        short(&e)
                    )),
                    Err(e) => Outcome::PassWithNote(format!(
                        "link error `{}`, script expected `{message}`",
                        short(&e)
                    )),
                }
            }
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                Outcome::Fail("custom-section assertions are not supported".to_string())
            }
            WastDirective::AssertException { exec, .. } => match self.execute(exec) {
                Err(reason) => Outcome::Fail(reason),
                Ok(Ok(values)) => Outcome::Fail(format!(
                    "expected an uncaught exception, got {}",
                    self.describe_all(&values)
                )),
                Ok(Err(e)) if e.is::<kiln::ThrownException>() => {
                    // The exception was left for the embedder; the store
                    // stays usable.
                    self.store.take_pending_exception();
                    Outcome::Pass
                }
                Ok(Err(e)) => Outcome::Fail(format!("expected an exception, got: {}", short(&e))),
            },
            WastDirective::AssertSuspension { .. } => {
                Outcome::Fail("stack switching is not supported".to_string())
            }
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                Outcome::Fail("threads are not supported".to_string())
            }
        }
    }

    fn compile(&mut self, module: &mut QuoteWat<'_>) -> Result<Module, String> {
        let bytes = encode(module).map_err(|e| format!("module text failed to encode: {e}"))?;
        Module::new(&self.engine, &bytes)
            .map_err(|e| format!("module failed to compile: {}", short(&e)))
    }

    fn instantiate(&mut self, module: &Module) -> Result<Instance, String> {
        self.linker
            .instantiate(&mut self.store, module)
            .map_err(|e| format!("module failed to instantiate: {}", short(&e)))
    }

    fn module(&mut self, name: Option<String>, module: &mut QuoteWat<'_>) -> Result<(), String> {
        // A module that fails leaves no current module behind, so later
        // invokes fail clearly instead of hitting a stale instance.
        self.current = None;
        let compiled = self.compile(module)?;
        let instance = self.instantiate(&compiled)?;
        if let Some(name) = name {
            self.instances.insert(name, instance);
        }
        self.current = Some(instance);
        Ok(())
    }

    fn module_instance(
        &mut self,
        instance: Option<String>,
        module: Option<String>,
    ) -> Result<(), String> {
        self.current = None;
        let module = match &module {
            Some(name) => self
                .definitions
                .get(name)
                .cloned()
                .ok_or_else(|| format!("no module definition named `${name}`"))?,
            None => return Err("`module instance` without a module name".to_string()),
        };
        let inst = self.instantiate(&module)?;
        if let Some(name) = instance {
            self.instances.insert(name, inst);
        }
        self.current = Some(inst);
        Ok(())
    }

    fn instance(&self, module: Option<Id<'_>>) -> Result<Instance, String> {
        match module {
            Some(id) => self
                .instances
                .get(id.name())
                .copied()
                .ok_or_else(|| format!("no instance named `${}`", id.name())),
            None => self.current.ok_or_else(|| {
                "no current module (the last module failed or none was defined)".to_string()
            }),
        }
    }

    fn register(&mut self, name: &str, module: Option<Id<'_>>) -> Result<(), String> {
        let instance = self.instance(module)?;
        self.linker
            .instance(&mut self.store, name, instance)
            .map(|_| ())
            .map_err(|e| format!("register failed: {}", short(&e)))
    }

    /// Runs an invoke: `Err` if the call raised an error (a trap, or an
    /// unusable directive such as an unknown export, reported as an error
    /// with context).
    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> anyhow::Result<Vec<Val>> {
        let instance = self.instance(invoke.module).map_err(|e| anyhow!(e))?;
        let func = instance
            .get_func(&mut self.store, invoke.name)
            .ok_or_else(|| anyhow!("unknown function export `{}`", invoke.name))?;
        let mut args = Vec::with_capacity(invoke.args.len());
        for arg in &invoke.args {
            args.push(arg_to_val(&mut self.store, arg).map_err(|e| anyhow!(e))?);
        }
        let ty = func.ty(&self.store);
        let mut results = vec![Val::I32(0); ty.results().len()];
        func.call(&mut self.store, &args, &mut results)?;
        Ok(results)
    }

    /// Runs the action of an assertion. The outer `Err` means the directive
    /// itself could not be carried out (unknown export, bad module text);
    /// the inner result is what execution produced.
    #[allow(clippy::type_complexity)]
    fn execute(&mut self, exec: WastExecute<'_>) -> Result<anyhow::Result<Vec<Val>>, String> {
        match exec {
            WastExecute::Invoke(invoke) => {
                let instance = self.instance(invoke.module)?;
                if instance.get_func(&mut self.store, invoke.name).is_none() {
                    return Err(format!("unknown function export `{}`", invoke.name));
                }
                Ok(self.invoke(&invoke))
            }
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?;
                let g = instance
                    .get_global(&mut self.store, global)
                    .ok_or_else(|| format!("unknown global export `{global}`"))?;
                Ok(Ok(vec![g.get(&mut self.store)]))
            }
            WastExecute::Wat(wat) => {
                let mut module = QuoteWat::Wat(wat);
                let compiled = self.compile(&mut module)?;
                Ok(self
                    .linker
                    .instantiate(&mut self.store, &compiled)
                    .map(|_| Vec::new()))
            }
        }
    }

    fn check_results(&self, actual: &[Val], expected: &[wast::WastRet<'_>]) -> Result<(), String> {
        if actual.len() != expected.len() {
            return Err(format!(
                "expected {} results, got {}: {}",
                expected.len(),
                actual.len(),
                self.describe_all(actual)
            ));
        }
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            match_result(&self.store, a, e).map_err(|reason| {
                if expected.len() == 1 {
                    reason
                } else {
                    format!("result {i}: {reason}")
                }
            })?;
        }
        Ok(())
    }

    fn describe_all(&self, values: &[Val]) -> String {
        if values.is_empty() {
            return "no results".to_string();
        }
        values
            .iter()
            .map(|v| describe_val(&self.store, v))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
