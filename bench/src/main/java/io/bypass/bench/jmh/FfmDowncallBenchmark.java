package io.bypass.bench.jmh;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.TimeUnit;

/**
 * The fixed cost of one FFM downcall, plain and with {@link Linker.Option#critical}
 * (no thread-state transition): {@code labs} (a trivial libc function: pure call
 * overhead) and {@code getpid} (a real syscall, as a kick or a poll would be).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class FfmDowncallBenchmark {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemorySegment LABS = LINKER.defaultLookup().find("labs").orElseThrow();
    private static final MemorySegment GETPID = LINKER.defaultLookup().find("getpid").orElseThrow();
    private static final FunctionDescriptor LABS_FD = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    private static final FunctionDescriptor GETPID_FD = FunctionDescriptor.of(ValueLayout.JAVA_INT);
    private static final MethodHandle LABS_PLAIN = LINKER.downcallHandle(LABS, LABS_FD);
    private static final MethodHandle LABS_CRITICAL = LINKER.downcallHandle(LABS, LABS_FD, Linker.Option.critical(false));
    private static final MethodHandle GETPID_PLAIN = LINKER.downcallHandle(GETPID, GETPID_FD);
    private static final MethodHandle GETPID_CRITICAL = LINKER.downcallHandle(GETPID, GETPID_FD, Linker.Option.critical(false));

    private long value = -42;

    /** Created by JMH. */
    public FfmDowncallBenchmark() {
    }

    /**
     * @return labs through a plain downcall
     * @throws Throwable never
     */
    @Benchmark
    public long labsPlain() throws Throwable {
        return (long) LABS_PLAIN.invokeExact(value);
    }

    /**
     * @return labs through a critical downcall
     * @throws Throwable never
     */
    @Benchmark
    public long labsCritical() throws Throwable {
        return (long) LABS_CRITICAL.invokeExact(value);
    }

    /**
     * @return getpid through a plain downcall (a syscall)
     * @throws Throwable never
     */
    @Benchmark
    public int getpidPlain() throws Throwable {
        return (int) GETPID_PLAIN.invokeExact();
    }

    /**
     * @return getpid through a critical downcall
     * @throws Throwable never
     */
    @Benchmark
    public int getpidCritical() throws Throwable {
        return (int) GETPID_CRITICAL.invokeExact();
    }
}
