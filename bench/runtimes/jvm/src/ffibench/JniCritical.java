// JniCritical.java — a few of Jni's calls again, in a class whose glue entry points exist twice:
// Java_ffibench_JniCritical_… and JavaCritical_ffibench_JniCritical_…. With -XX:+CriticalJNINatives
// (deprecated in JDK 16, still in 17, gone in 18), HotSpot's compiled native wrapper calls the
// JavaCritical_ one: no JNIEnv or jclass argument, no transition of the thread's state. The
// interpreter (and -Xint) always calls the Java_ one. probe() tells which entry was reached.
package ffibench;

final class JniCritical {
    private JniCritical() {}

    static { System.load(System.getProperty("ffibench.out") + "/libkvjni.so"); }

    static native void noop();
    static native int add(int a, int b);
    static native long get(long txn, long key, long keyLen, long buf, long cap);
    static native int probe(); // 0: the JNI entry point ran; 1: the critical one
}
