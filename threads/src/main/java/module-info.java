/**
 * The polling thread on Linux: {@link io.bypass.threads.ThreadPlacement} pins it alone on
 * its CPU and moves the JVM's other threads (JIT compilers, GC workers, the VM thread,
 * progress printers) off that CPU, and {@link io.bypass.threads.HiccupRecorder} records
 * its stalls, the gaps between consecutive polls, without allocating;
 * {@link io.bypass.threads.ThreadNetNamespace} holds a thread's network namespace for the backends
 * that reserve kernel ports from other threads. Native calls ({@code sched_setaffinity},
 * {@code gettid}, {@code setns}) go through FFM; the module needs
 * {@code --enable-native-access=io.bypass.threads} (or {@code ALL-UNNAMED} on the class path).
 */
module io.bypass.threads {
    requires io.bypass;

    exports io.bypass.threads;
}
