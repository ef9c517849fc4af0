//! Buffers for the JSON frame, handed to libzmq without a copy and given
//! back when libzmq is done with them.
//!
//! Copying a record into a message (`zmq_msg_init_size`) means a `malloc`
//! on the writer's thread and a `free` on ZeroMQ's I/O thread for every
//! record; for a few hundred bytes glibc serves both from the writer's
//! arena under its lock, and the two threads fight over that lock (most of
//! the futex calls of a busy writer). Instead the encoder writes into a
//! [`Frame`] from a [`FramePool`]; the message points at the frame's bytes
//! (`zmq_msg_init_data`), and when the I/O thread has sent them it calls
//! [`release`], which pushes the frame onto the pool's return stack (one
//! compare-and-swap, no lock). The writer takes the whole stack back in one
//! swap when its own free list runs out.
//!
//! The return stack can outlive the writer: messages still queued when the
//! writer goes (linger) come back later. Closing the pool swaps a sentinel
//! into the stack; a frame coming back after that is simply freed.
//!
//! The stack also counts the frames handed to libzmq and those it gave
//! back, by [`Reach`]: their difference ([`FramePool::in_flight`]) is how
//! many records libzmq still holds, queued or being written. At shutdown
//! that is what linger may still deliver, or discard.

use crate::sequence::SeqFrame;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::Arc;

/// One reusable buffer for frame 2.
pub struct Frame {
    /// The encoded record.
    pub buf: Vec<u8>,
    /// Its sequence number, if the writer numbers its records: the
    /// message's last frame, after `buf` ([`crate::sequence`]).
    pub seq: Option<SeqFrame>,
    /// Where the frame goes when libzmq is done with it.
    home: Arc<ReturnStack>,
    /// Link in the return stack.
    next: *mut Frame,
    /// Whom the message was queued for, while libzmq has it.
    reach: Reach,
    /// While libzmq has it: the sending socket's count of messages it
    /// holds, if that socket keeps one (see [`send`]).
    socket_count: Option<Arc<AtomicU64>>,
    /// A send failed and the sender keeps the frame: [`release`] must not
    /// take it (see [`send_or_keep`]).
    kept: bool,
}

/// Whom a message carrying a frame was queued for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Every subscriber of its path.
    All,
    /// Only the subscribers with room (some were skipped).
    Some,
}

/// Counts of frames handed to libzmq or given back, one per [`Reach`].
#[derive(Default)]
struct ReachCounts([AtomicU64; 2]);

impl ReachCounts {
    fn add(&self, reach: Reach, ordering: Ordering) {
        self.0[reach as usize].fetch_add(1, ordering);
    }
    /// Takes back an `add` of the owner's (a send that failed).
    fn sub(&self, reach: Reach) {
        self.0[reach as usize].fetch_sub(1, Ordering::Relaxed);
    }
    fn get(&self, reach: Reach, ordering: Ordering) -> u64 {
        self.0[reach as usize].load(ordering)
    }
}

// SAFETY: `next` is only a link while the frame sits on a return stack;
// whoever owns the frame owns what it points to, so moving a frame to
// another thread moves nothing shared.
unsafe impl Send for Frame {}

/// Frames given back by libzmq: a stack pushed by any thread, emptied at
/// once by the pool's owner.
struct ReturnStack {
    head: AtomicPtr<Frame>,
    /// Frames given to libzmq ([`send`]), by the pool's owner.
    handed: ReachCounts,
    /// Frames libzmq gave back ([`release`], or a failed [`send`]).
    returned: ReachCounts,
}

/// `head` after the pool closed: frames coming back are freed.
fn closed() -> *mut Frame {
    // A non-null address no frame can have (frames are aligned).
    ptr::dangling_mut::<Frame>().wrapping_byte_add(1)
}

impl ReturnStack {
    /// A frame back from libzmq: onto the stack, or freed once closed.
    fn give_back(&self, mut frame: Box<Frame>) {
        if let Some(count) = frame.socket_count.take() {
            count.fetch_sub(1, Ordering::Release);
        }
        // Release: a thread that sees the count also sees the frame's
        // buffer no longer read by libzmq (see `FramePool::in_flight`).
        self.returned.add(frame.reach, Ordering::Release);
        self.push(frame);
    }

    fn push(&self, frame: Box<Frame>) {
        let frame = Box::into_raw(frame);
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            if head == closed() {
                // SAFETY: `frame` came from `Box::into_raw` above and was
                // not published.
                drop(unsafe { Box::from_raw(frame) });
                return;
            }
            // SAFETY: not yet published, so this thread owns it.
            unsafe { (*frame).next = head };
            match self
                .head
                .compare_exchange_weak(head, frame, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(now) => head = now,
            }
        }
    }

    /// Takes every frame on the stack (or, with `close`, takes them and
    /// closes the stack).
    fn take_all(&self, close: bool) -> *mut Frame {
        let new = if close { closed() } else { ptr::null_mut() };
        let head = self.head.swap(new, Ordering::Acquire);
        if head == closed() {
            ptr::null_mut()
        } else {
            head
        }
    }
}

/// Buffer bytes a pool keeps for reuse at most (about four thousand conn
/// records' frames, or three hundred of 10 KB records). More frames than
/// that are in flight after a burst with a slow or descheduled I/O thread;
/// the surplus is freed as it comes back, on the writer's own thread.
const KEEP_BYTES: usize = 4 << 20;
/// A frame whose buffer grew beyond this (a huge record) is not kept.
const KEEP_CAPACITY: usize = 64 * 1024;
/// A new frame's capacity at least: a conn record is about 400 bytes. Below
/// 1,024 so that glibc keeps the buffer in its per-thread cache and small
/// bins (a request of 1,024 bytes or more first consolidates the fast bins,
/// where libzmq's freed message headers sit).
const INITIAL_CAPACITY: usize = 1000;

/// A writer's frames: a free list it alone uses, and the return stack.
pub struct FramePool {
    // Boxed: a frame keeps its address while it travels through libzmq and
    // back, so reusing it allocates nothing.
    #[allow(clippy::vec_box)]
    free: Vec<Box<Frame>>,
    /// The buffer capacity of the frames in `free`.
    kept_bytes: usize,
    /// A new frame's capacity: room for the last record and a quarter
    /// more, so that a stream of big records does not grow each new frame
    /// by `realloc` (at least [`INITIAL_CAPACITY`]).
    new_capacity: usize,
    returned: Arc<ReturnStack>,
}

impl Default for FramePool {
    fn default() -> Self {
        FramePool::new()
    }
}

impl FramePool {
    pub fn new() -> FramePool {
        FramePool {
            free: Vec::new(),
            kept_bytes: 0,
            new_capacity: INITIAL_CAPACITY,
            returned: Arc::new(ReturnStack {
                head: AtomicPtr::new(ptr::null_mut()),
                handed: ReachCounts::default(),
                returned: ReachCounts::default(),
            }),
        }
    }

    /// A frame with an empty buffer: a free one, one libzmq gave back, or a
    /// new one.
    pub fn take(&mut self) -> Box<Frame> {
        if self.free.is_empty() {
            self.reclaim();
        }
        match self.free.pop() {
            Some(mut frame) => {
                self.kept_bytes -= frame.buf.capacity();
                frame.buf.clear();
                frame.seq = None;
                frame
            }
            None => Box::new(Frame {
                buf: Vec::with_capacity(self.new_capacity),
                seq: None,
                home: self.returned.clone(),
                next: ptr::null_mut(),
                reach: Reach::All,
                socket_count: None,
                kept: false,
            }),
        }
    }

    /// Notes the length of a record just written into a frame: the
    /// capacity of new frames follows it.
    pub fn note_len(&mut self, len: usize) {
        self.new_capacity = len
            .saturating_add(len / 4)
            .clamp(INITIAL_CAPACITY, KEEP_CAPACITY);
    }

    /// Keeps a frame that was not sent, for the next record.
    pub fn give_back(&mut self, frame: Box<Frame>) {
        let capacity = frame.buf.capacity();
        if capacity <= KEEP_CAPACITY && self.kept_bytes + capacity <= KEEP_BYTES {
            self.kept_bytes += capacity;
            self.free.push(frame);
        }
    }

    /// Moves the frames libzmq gave back to the free list.
    fn reclaim(&mut self) {
        let mut next = self.returned.take_all(false);
        while !next.is_null() {
            // SAFETY: every frame on the stack came from `Box::into_raw`
            // in `push`, and `take_all` made this thread their only owner.
            let frame = unsafe { Box::from_raw(next) };
            next = frame.next;
            self.give_back(frame);
        }
    }

    /// Frames sent with `reach` that libzmq has not given back yet:
    /// records still queued for a subscriber, or being written to one.
    pub fn in_flight(&self, reach: Reach) -> u64 {
        let stack = &self.returned;
        let returned = stack.returned.get(reach, Ordering::Acquire);
        // Only this thread hands frames over (through `send`).
        stack
            .handed
            .get(reach, Ordering::Relaxed)
            .saturating_sub(returned)
    }

    /// Frames on the free list (for tests).
    pub fn free_frames(&mut self) -> usize {
        self.reclaim();
        self.free.len()
    }
}

impl Drop for FramePool {
    fn drop(&mut self) {
        let mut next = self.returned.take_all(true);
        while !next.is_null() {
            // SAFETY: as in `reclaim`.
            let frame = unsafe { Box::from_raw(next) };
            next = frame.next;
        }
    }
}

/// Sends `frame` as the last part of a message queued for `reach`, without
/// copying its bytes. On success libzmq owns the frame until it calls
/// [`release`]; on failure the frame has gone back to its pool's return
/// stack already. With `socket_count`, the socket's own count of messages
/// libzmq holds is one more until then.
pub fn send(
    socket: &mut zmq::Socket,
    frame: Box<Frame>,
    reach: Reach,
    socket_count: Option<&Arc<AtomicU64>>,
    flags: i32,
) -> Result<(), zmq::Error> {
    send_or_keep(socket, frame, reach, socket_count, flags).map_err(|(err, frame)| {
        frame.home.clone().push(frame);
        err
    })
}

/// [`send`], but a frame libzmq refused (`EAGAIN`: no room) comes back to
/// the caller, to be sent again: a message of one part, which has no
/// cheap first part to try with.
pub fn send_or_keep(
    socket: &mut zmq::Socket,
    mut frame: Box<Frame>,
    reach: Reach,
    socket_count: Option<&Arc<AtomicU64>>,
    flags: i32,
) -> Result<(), (zmq::Error, Box<Frame>)> {
    let data = frame.buf.as_ptr() as *mut c_void;
    let len = frame.buf.len();
    frame.reach = reach;
    // Counted before the send: once sent, `release` may run at any time.
    frame.home.handed.add(reach, Ordering::Relaxed);
    if let Some(count) = socket_count {
        count.fetch_add(1, Ordering::Relaxed);
        frame.socket_count = Some(Arc::clone(count));
    }
    let hint = Box::into_raw(frame);
    let mut msg = zmq_sys::zmq_msg_t { __: [0; 64] };
    // SAFETY: `data` stays valid and unchanged until libzmq calls `release`
    // with `hint`, which owns the buffer; libzmq only reads it.
    let rc = unsafe { zmq_sys::zmq_msg_init_data(&mut msg, data, len, Some(release), hint.cast()) };
    // With no message, `release` will not be called.
    let err = if rc != 0 {
        last_errno()
    } else {
        // SAFETY: an initialised message and a live socket.
        if unsafe { zmq_sys::zmq_msg_send(&mut msg, socket.as_mut_ptr(), flags) } >= 0 {
            return Ok(());
        }
        let err = last_errno();
        // SAFETY: the message was not sent, so libzmq never had it and the
        // frame is still this thread's: marked, `release` leaves it alone
        // when closing the message calls it (on this thread).
        unsafe {
            (*hint).kept = true;
            zmq_sys::zmq_msg_close(&mut msg);
        }
        err
    };
    // SAFETY: `hint` came from `Box::into_raw`, and neither libzmq nor
    // `release` took it (above).
    let mut frame = unsafe { Box::from_raw(hint) };
    frame.kept = false;
    frame.home.handed.sub(reach);
    if let Some(count) = frame.socket_count.take() {
        count.fetch_sub(1, Ordering::Relaxed);
    }
    Err((err, frame))
}

/// Sends `bytes`, copied, as one part of a message: for frame 1 (the path),
/// which libzmq keeps inside the message itself when it is short (up to 33
/// bytes), so this allocates nothing.
pub fn send_copy(socket: &mut zmq::Socket, bytes: &[u8], flags: i32) -> Result<(), zmq::Error> {
    // SAFETY: a live socket and `bytes.len()` readable bytes, which libzmq
    // copies before returning.
    let rc = unsafe {
        zmq_sys::zmq_send(
            socket.as_mut_ptr(),
            bytes.as_ptr().cast(),
            bytes.len(),
            flags,
        )
    };
    if rc < 0 {
        return Err(last_errno());
    }
    Ok(())
}

/// The error of the libzmq call that just failed on this thread.
pub(crate) fn last_errno() -> zmq::Error {
    // SAFETY: zmq_errno(3) takes nothing and reads this thread's errno.
    zmq::Error::from_raw(unsafe { zmq_sys::zmq_errno() })
}

/// libzmq's free function for a sent frame: called once, from whichever
/// thread drops the message's last reference (usually the I/O thread).
///
/// # Safety
/// `hint` must be a frame given up with `Box::into_raw` (as `send` does),
/// and this must be its only `release`.
unsafe extern "C" fn release(_data: *mut c_void, hint: *mut c_void) {
    let frame = hint.cast::<Frame>();
    // SAFETY: the caller's promise: `hint` is the `Box<Frame>` given up in
    // `send_or_keep`, and libzmq calls this exactly once per message; a
    // frame marked `kept` stays with that function, which reads it back.
    if unsafe { (*frame).kept } {
        return;
    }
    // SAFETY: as above, and not kept: this is its only owner now.
    let frame = unsafe { Box::from_raw(frame) };
    let home = Arc::clone(&frame.home);
    home.give_back(frame);
}

/// What [`send`] does with a frame libzmq refused, for tests that need a
/// refused frame 2.
#[cfg(test)]
pub(crate) fn refuse(frame: Box<Frame>) {
    frame.home.handed.add(frame.reach, Ordering::Relaxed);
    let home = Arc::clone(&frame.home);
    home.give_back(frame);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_reused_after_libzmq_gives_them_back() {
        let mut pool = FramePool::new();
        let mut frame = pool.take();
        frame.buf.extend_from_slice(b"{\"a\":1}");
        let addr = frame.buf.as_ptr();
        // As libzmq would: hand it over, then release it.
        let hint = Box::into_raw(frame);
        // SAFETY: a frame given up just above, released once.
        unsafe { release(ptr::null_mut(), hint.cast()) };
        assert_eq!(pool.free_frames(), 1);
        let again = pool.take();
        assert!(again.buf.is_empty());
        assert_eq!(again.buf.as_ptr(), addr, "same buffer");
    }

    #[test]
    fn a_frame_coming_back_after_the_pool_closed_is_freed() {
        let mut pool = FramePool::new();
        let frame = pool.take();
        let home = Arc::downgrade(&frame.home);
        drop(pool);
        assert!(home.upgrade().is_some(), "the frame keeps its stack alive");
        let hint = Box::into_raw(frame);
        // SAFETY: a frame given up just above, released once.
        unsafe { release(ptr::null_mut(), hint.cast()) };
        assert!(home.upgrade().is_none(), "freed, and the stack with it");
    }

    const KEEP_FRAMES: usize = KEEP_BYTES / INITIAL_CAPACITY;

    #[test]
    fn huge_and_surplus_frames_are_not_kept() {
        let mut pool = FramePool::new();
        let mut huge = pool.take();
        huge.buf.reserve(KEEP_CAPACITY + 1);
        pool.give_back(huge);
        assert_eq!(pool.free_frames(), 0);
        let frames: Vec<_> = (0..KEEP_FRAMES + 10).map(|_| pool.take()).collect();
        for f in frames {
            pool.give_back(f);
        }
        assert_eq!(pool.free_frames(), KEEP_FRAMES);
        // Taking them all again empties the count: as many fit once more.
        let frames: Vec<_> = (0..KEEP_FRAMES).map(|_| pool.take()).collect();
        assert_eq!(pool.kept_bytes, 0);
        for f in frames {
            pool.give_back(f);
        }
        assert_eq!(pool.free_frames(), KEEP_FRAMES);
    }

    #[test]
    fn big_frames_are_kept_by_bytes_not_by_number() {
        let mut pool = FramePool::new();
        let frames: Vec<_> = (0..100)
            .map(|_| {
                let mut f = pool.take();
                f.buf.reserve_exact(KEEP_CAPACITY);
                f
            })
            .collect();
        let each = frames[0].buf.capacity();
        for f in frames {
            pool.give_back(f);
        }
        assert_eq!(pool.free_frames(), KEEP_BYTES / each);
        assert!(pool.kept_bytes <= KEEP_BYTES);
    }

    #[test]
    fn new_frames_have_room_for_records_like_the_last() {
        let mut pool = FramePool::new();
        assert_eq!(pool.take().buf.capacity(), INITIAL_CAPACITY);
        pool.note_len(10_000);
        assert!(pool.take().buf.capacity() >= 12_500);
        pool.note_len(10);
        assert_eq!(pool.take().buf.capacity(), INITIAL_CAPACITY);
        pool.note_len(usize::MAX / 2);
        assert_eq!(pool.take().buf.capacity(), KEEP_CAPACITY);
    }

    #[test]
    fn frames_come_back_from_many_threads() {
        let mut pool = FramePool::new();
        let frames: Vec<usize> = (0..KEEP_FRAMES + 1000)
            .map(|_| Box::into_raw(pool.take()) as usize)
            .collect();
        std::thread::scope(|s| {
            for chunk in frames.chunks(frames.len() / 4 + 1) {
                s.spawn(move || {
                    for &f in chunk {
                        // SAFETY: each frame was given up with
                        // `Box::into_raw` above and is released once.
                        unsafe { release(ptr::null_mut(), f as *mut c_void) };
                    }
                });
            }
        });
        assert_eq!(pool.free_frames(), KEEP_FRAMES);
    }
}
