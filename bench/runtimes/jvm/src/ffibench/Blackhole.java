// Blackhole.java — what the control loop consumes so that C2 keeps it: a store to a volatile field
// per iteration would cost more than the loop; a plain static store of the counter is kept (C2 does
// not remove stores to static fields) and costs a cycle.
package ffibench;

final class Blackhole {
    private Blackhole() {}
    static long sink;
    static void tick(long i) { sink = i; }
}
