//! One read buffer for the readers of a thread (services' pipes and stdout streams): each
//! reads and splits its bytes between two awaits, so one buffer serves them all, where each
//! held 16 KiB of its own for its life (a service's stdout and stderr: 32 KiB of PID 1's memory
//! per service).

use std::cell::RefCell;

/// How much one read(2) takes at most.
pub const LEN: usize = 16 * 1024;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; LEN]);
}

/// `f` with the thread's buffer ([`LEN`] bytes); with a buffer of its own when the thread's is
/// in use (`f` itself asked for it) or gone (the thread is ending).
pub fn with<R>(f: impl FnOnce(&mut [u8]) -> R) -> R {
    // Free and not torn down: nothing runs between this look and the borrow below (one thread).
    let free = SCRATCH
        .try_with(|cell| cell.try_borrow_mut().is_ok())
        .unwrap_or(false);
    if free {
        SCRATCH.with(|cell| f(&mut cell.borrow_mut()))
    } else {
        f(&mut vec![0; LEN])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_use_gets_a_buffer_of_its_own() {
        let outer = with(|a| {
            a[0] = 1;
            let inner = with(|b| {
                assert_eq!(b.len(), LEN);
                b[0]
            });
            (a[0], inner)
        });
        assert_eq!(outer, (1, 0));
        // The shared one kept what the outer use wrote.
        assert_eq!(with(|a| a[0]), 1);
    }
}
