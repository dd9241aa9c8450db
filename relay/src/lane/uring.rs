//! The fan-out's writes through io_uring (Linux): every direct socket's
//! send of a delivery round in one submission, one system call for up to
//! [`ROOM`] sockets instead of one `writev` each.
//!
//! Each send is a `sendmsg` of the burst's slices (header, frame, header,
//! frame...) with `MSG_DONTWAIT`: the kernel tries it at once and, on a
//! full socket, completes it with `EAGAIN` rather than waiting for room,
//! so every send of the submission has completed when the call returns.
//! Each result is taken as the `writev` path takes its return
//! ([`Inner::took`]); the lane's lock is held from the submission to the
//! completion, so nothing else is written to its socket between.
//!
//! Each thread that runs the fan-out has a ring of its own, made on its
//! first round (no lock shared between threads). Where io_uring is refused
//! ([`probe`] at start: Docker's default seccomp profile, old kernels, a
//! kernel that would wait on a full socket), the relay writes with
//! `writev` as before.

use std::cell::RefCell;
use std::io::{self, IoSlice};
use std::os::fd::AsRawFd;
use std::sync::{Arc, MutexGuard};

use io_uring::{opcode, types, IoUring};

use super::{Burst, Inner, Lane, Round};

/// Sends in one submission at most, and the ring's size: 256 keeps a
/// lane's lock held for a few hundred microseconds at most, and the ring
/// (16 KiB of submissions) within any kernel's locked-memory limit.
pub const ROOM: usize = 256;

/// The flags of every send: fail with `EAGAIN` rather than wait, and no
/// `SIGPIPE` on a socket the client closed (`writev`'s error, `EPIPE`, still comes).
const FLAGS: i32 = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;

/// This thread's ring: not made yet, made, or refused (then `writev`).
enum Ring {
    Untried,
    Ready(Box<IoUring>),
    Refused,
}

thread_local! {
    static RING: RefCell<Ring> = const { RefCell::new(Ring::Untried) };
}

/// Whether io_uring sends here as the fan-out needs: a ring can be made,
/// and a `sendmsg` with `MSG_DONTWAIT` to a full socket completes at once
/// with `EAGAIN` (a kernel that waited for room instead would stall the
/// fan-out behind one slow client).
pub fn probe() -> io::Result<()> {
    let (full, _peer) = std::os::unix::net::UnixStream::pair()?;
    full.set_nonblocking(true)?;
    let chunk = [0u8; 4096];
    loop {
        match io::Write::write(&mut &full, &chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    let slices = [IoSlice::new(b"x")];
    let msg = message(&slices);
    // Made last, dropped first: a send still waiting is cancelled before
    // the socket and the message go.
    let mut ring = IoUring::new(8)?;
    let send = opcode::SendMsg::new(types::Fd(full.as_raw_fd()), &msg)
        .flags(FLAGS as u32)
        .build();
    // SAFETY: `msg` and `slices` outlive the ring.
    unsafe { ring.submission().push(&send) }.map_err(io::Error::other)?;
    ring.submit()?;
    let result = ring.completion().next().map(|c| c.result());
    match result {
        Some(r) if r == -libc::EAGAIN => Ok(()),
        Some(r) if r < 0 => Err(io::Error::from_raw_os_error(-r)),
        Some(r) => Err(io::Error::other(format!("a send to a full socket took {r} bytes"))),
        None => Err(io::Error::other(
            "a send to a full socket waits for room on this kernel",
        )),
    }
}

/// A lane whose burst is in the current submission, its lock held.
struct Job<'l, const N: usize> {
    lane: &'l Lane,
    inner: MutexGuard<'l, Inner>,
    /// Where its next burst starts in the round's events.
    next: usize,
    burst: Burst<N>,
    /// What its send returned: bytes taken (0 for a full or broken socket).
    wrote: usize,
}

/// Writes `round` to `lanes` as [`Lane::deliver`] does, the sends of up
/// to [`ROOM`] sockets in one submission; `None` when this thread has no
/// ring (then nothing was written: use `writev`). How many frames it wrote.
pub(super) fn deliver<'l, const N: usize>(
    lanes: impl Iterator<Item = &'l Arc<Lane>>,
    round: &Round<'_>,
    room: usize,
) -> Option<u64> {
    RING.with_borrow_mut(|ring| {
        if matches!(ring, Ring::Untried) {
            *ring = match IoUring::new(ROOM as u32) {
                Ok(made) => Ring::Ready(Box::new(made)),
                Err(e) => {
                    tracing::warn!("this thread's fan-out writes with writev: io_uring refused ({e})");
                    Ring::Refused
                }
            };
        }
        if matches!(ring, Ring::Refused) {
            return None;
        }
        let mut written = 0;
        let mut jobs: Vec<Job<'_, N>> = Vec::new();
        let mut slices = Vec::new();
        for lane in lanes {
            let Ring::Ready(uring) = ring else {
                // The ring broke in this round: the rest with `writev`.
                written += lane.deliver::<N>(round, &mut slices);
                continue;
            };
            let mut inner = lane.lock();
            let mut next = 0;
            match inner.burst::<N>(&lane.origin, round.events, &mut next) {
                Some(burst) => jobs.push(Job {
                    lane,
                    inner,
                    next,
                    burst,
                    wrote: 0,
                }),
                None => inner.settle(),
            }
            if jobs.len() == room {
                written += finish(uring, &mut jobs, round).unwrap_or_else(|e| broke(ring, e));
            }
        }
        if let Ring::Ready(uring) = ring {
            written += finish(uring, &mut jobs, round).unwrap_or_else(|e| broke(ring, e));
        }
        Some(written)
    })
}

/// Drops a ring the kernel failed (its jobs were given back whole).
fn broke(ring: &mut Ring, e: io::Error) -> u64 {
    tracing::warn!("this thread's fan-out writes with writev from now on: io_uring failed ({e})");
    *ring = Ring::Refused;
    0
}

/// Sends every job's bursts, one submission a burst each, until each lane
/// has written all it takes of the round or went back to its task; then
/// releases them. How many frames that wrote. On an error of the ring,
/// every job goes back to its task, which writes what its send did not.
fn finish<const N: usize>(ring: &mut IoUring, jobs: &mut Vec<Job<'_, N>>, round: &Round<'_>) -> io::Result<u64> {
    let mut written = 0;
    while !jobs.is_empty() {
        let sent = send(ring, jobs, round);
        for job in jobs.iter_mut() {
            written += job.inner.took(&job.burst, round, job.wrote);
        }
        if let Err(e) = sent {
            for mut job in jobs.drain(..) {
                job.inner.give_back();
            }
            return Err(e);
        }
        jobs.retain_mut(
            |job| match job.inner.burst::<N>(&job.lane.origin, round.events, &mut job.next) {
                Some(burst) => {
                    job.burst = burst;
                    true
                }
                None => {
                    job.inner.settle();
                    false
                }
            },
        );
    }
    Ok(written)
}

/// One submission of every job's burst, waited for; sets each job's `wrote`.
/// A burst of consecutive events is one slice of the round's buffer, sent
/// with a plain `send`; others with a `sendmsg` of their slices.
fn send<const N: usize>(ring: &mut IoUring, jobs: &mut [Job<'_, N>], round: &Round<'_>) -> io::Result<()> {
    let mut slices = Vec::with_capacity(jobs.len());
    let mut counts = Vec::with_capacity(jobs.len());
    for job in jobs.iter_mut() {
        job.wrote = 0;
        let before = slices.len();
        round.slices(&job.burst, &mut slices);
        counts.push(slices.len() - before);
    }
    // Every slice is in place: the messages point into them.
    let mut at = 0;
    let messages: Vec<libc::msghdr> = counts
        .iter()
        .map(|&count| {
            at += count;
            message(&slices[at - count..at])
        })
        .collect();
    {
        let mut queue = ring.submission();
        let mut at = 0;
        for (i, ((job, msg), &count)) in jobs.iter().zip(&messages).zip(&counts).enumerate() {
            let fd = types::Fd(job.lane.tcp.as_raw_fd());
            let send = match count {
                1 => opcode::Send::new(fd, slices[at].as_ptr(), slices[at].len() as u32)
                    .flags(FLAGS)
                    .build(),
                _ => opcode::SendMsg::new(fd, msg).flags(FLAGS as u32).build(),
            };
            at += count;
            // SAFETY: `messages` and `slices` (and the round's buffer they
            // point to) outlive the send: it is waited for below, and on an
            // error the ring is dropped before they are.
            unsafe { queue.push(&send.user_data(i as u64)) }.map_err(io::Error::other)?;
        }
    }
    let mut done = 0;
    while done < jobs.len() {
        let waited = ring.submit_and_wait(jobs.len() - done);
        for completion in ring.completion() {
            // A negative result is an error: nothing taken, as `writev`'s.
            jobs[completion.user_data() as usize].wrote = usize::try_from(completion.result()).unwrap_or(0);
            done += 1;
        }
        match waited {
            Err(e) if e.kind() != io::ErrorKind::Interrupted && done < jobs.len() => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// A `msghdr` of `slices` (an `IoSlice` is an `iovec` on Unix).
fn message(slices: &[IoSlice<'_>]) -> libc::msghdr {
    // SAFETY: all zeros is a valid `msghdr` (no name, no control data), musl's padding included.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = slices.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = slices.len() as _;
    msg
}
