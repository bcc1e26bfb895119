/**
 * The polling thread on Linux: {@link io.bypass.threads.ThreadPlacement} pins it alone on
 * its CPU and moves the JVM's other threads (JIT compilers, GC workers, the VM thread,
 * progress printers) off that CPU, and {@link io.bypass.threads.HiccupRecorder} records
 * its stalls, the gaps between consecutive polls, without allocating. Native calls
 * ({@code sched_setaffinity}, {@code gettid}) go through FFM; the module needs
 * {@code --enable-native-access=io.bypass.threads} (or {@code ALL-UNNAMED} on the class path).
 */
module io.bypass.threads {
    exports io.bypass.threads;
}
