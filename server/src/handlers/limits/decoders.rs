//! A few dedicated threads that inflate and decode sync bodies.
//!
//! The budget bounds the memory syncs hold at once, but glibc's malloc keeps memory a thread
//! freed in that thread's arena, and once blocks of many MiB have been freed it stops giving
//! them back to the system. Inflating on any of tokio's up to 512 blocking threads spread those
//! blocks over up to eight arenas per core, each keeping its own: memory grew with every burst.
//! Doing the large allocations on a fixed few threads keeps them in a few arenas, where each
//! thread reuses what it freed, so the process holds about what the budget allows and no more.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

use crate::error::ServerError;

type Job = Box<dyn FnOnce() + Send>;

/// The decoding threads. They end when the pool is dropped.
#[derive(Debug)]
pub struct Decoders {
    jobs: Mutex<Sender<Job>>,
}

impl Decoders {
    /// Starts `threads` decoding threads (at least one).
    pub fn new(threads: usize) -> Result<Decoders, ServerError> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("fieldsync-decode-{n}"))
                .spawn(move || work(&queue))?;
        }
        Ok(Decoders {
            jobs: Mutex::new(jobs),
        })
    }

    /// Runs `f` on a decoding thread and waits for its result.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServerError> {
        let (answer, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(f());
        });
        self.jobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .map_err(|_| ServerError::Internal("the decoding threads have stopped".into()))?;
        result
            .await
            .map_err(|_| ServerError::Internal("decoding a sync body failed".into()))
    }
}

/// One thread's loop: take the next job until the pool is gone. A panicking job only loses its
/// own answer (the caller gets an internal error); the thread goes on.
fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
        match job {
            Ok(job) => {
                let _ = catch_unwind(AssertUnwindSafe(job));
            }
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_and_panics_do_not_kill_the_pool() {
        let pool = Decoders::new(1).expect("starts");
        assert_eq!(pool.run(|| 2 + 2).await.expect("runs"), 4);
        let failed = pool.run(|| -> u32 { panic!("bad body") }).await;
        assert!(matches!(failed, Err(ServerError::Internal(_))));
        assert_eq!(pool.run(|| 5).await.expect("still runs"), 5);
    }
}
