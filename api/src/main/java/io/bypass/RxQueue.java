package io.bypass;

/**
 * One receive queue of a {@link Port}. Poll it from one thread only.
 *
 * <pre>{@code
 * FrameHandler handler = (buffer, offset, length, meta) -> decode(buffer, offset, length);
 * IdleStrategy idle = new BusySpinIdleStrategy();
 * while (running) {
 *     idle.idle(rx.poll(handler, 64));
 * }
 * }</pre>
 */
public interface RxQueue {
    /**
     * Delivers up to {@code limit} received frames to {@code handler}, then returns
     * their buffers to the NIC. At most one syscall per call (a wakeup where the
     * backend needs one), no allocation.
     *
     * @param handler called once per frame
     * @param limit   most frames to deliver in this call, at least 1
     * @return frames delivered, 0 if none were waiting
     * @throws BypassException if the port is closed
     */
    int poll(FrameHandler handler, int limit);

    /**
     * @return this queue's id within its port
     */
    int id();
}
