//! The async half of `fleet.rs`: a child's tasks ask at once on a tokio runtime. Included by
//! path, like `fleet.rs`, by the fleet tests that have tokio.

use std::future::Future;

use tokio::runtime::Runtime;

/// `tasks` tasks of `runtime` run `ask()` at once; what each returned.
///
/// # Panics
///
/// When a task panics.
pub fn ask_tasks<F>(runtime: &Runtime, tasks: usize, ask: impl Fn() -> F) -> Vec<String>
where
    F: Future<Output = String> + Send + 'static,
{
    runtime.block_on(async {
        let running: Vec<_> = (0..tasks).map(|_| tokio::spawn(ask())).collect();
        let mut answers = Vec::with_capacity(tasks);
        for task in running {
            answers.push(task.await.expect("a task"));
        }
        answers
    })
}
