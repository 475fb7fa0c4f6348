// Data.java — the data folder ($FFIBENCH_DATA, bench/dataset.h) as the loops use it: the tables from
// their files (into direct, little-endian buffers, so every binding can pass their addresses), the
// workload vocabulary from manifest.txt. Nothing here derives the data set.
package ffibench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

final class Data {
    private Data() {}

    /** One `workload` line of manifest.txt. */
    static final class Workload {
        final String name, param, ops; // param: the parameter's name, or "-"
        final int[] values;
        Workload(String name, String param, int[] values, String ops) {
            this.name = name; this.param = param; this.values = values; this.ops = ops;
        }
    }

    static int keys, keyLen, valLen, missKeys, putKeys, scanRecords, maxBatch;
    static ByteBuffer keyBytes, missBytes, putKeyBytes, orderPacked; // direct, little-endian
    static int[] order;
    static final List<Workload> workloads = new ArrayList<>();
    static String checksum, bytesKey;
    private static final Map<String, String[]> facts = new HashMap<>();

    static ByteBuffer direct(int size) {
        return ByteBuffer.allocateDirect(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String[] fact(String name) {
        String[] f = facts.get(name);
        if (f == null) throw new IllegalStateException("manifest.txt has no '" + name + "' line");
        return f;
    }

    private static byte[] table(Path dir, String name, int width) throws IOException {
        String[] f = fact(name); // name, file, rows, bytes per row
        int rows = Integer.parseInt(f[2]), w = Integer.parseInt(f[3]);
        byte[] b = Files.readAllBytes(dir.resolve(f[1]));
        if ((long) b.length != (long) rows * w)
            throw new IllegalStateException(f[1] + ": " + b.length + " bytes, the manifest says " + rows + " x " + w);
        if (width > 0 && w != width) throw new IllegalStateException(f[1] + ": rows of " + w + " bytes, not " + width);
        return b;
    }

    private static ByteBuffer copy(byte[] b) {
        return direct(b.length).put(b).clear();
    }

    static synchronized void load(String folder) throws IOException {
        if (checksum != null) return;
        Path dir = Path.of(folder);
        for (String line : Files.readAllLines(dir.resolve("manifest.txt"), StandardCharsets.UTF_8)) {
            if (line.isEmpty() || line.charAt(0) == '#') continue;
            String[] f = line.split("\t", -1);
            if (!f[0].equals("workload")) { facts.put(f[0], f); continue; }
            if (f.length != 5) throw new IllegalStateException("manifest.txt: bad workload line '" + line + "'");
            int[] v = new int[0];
            if (!f[2].equals("-")) {
                String[] s = f[3].split(",");
                v = new int[s.length];
                for (int i = 0; i < s.length; i++) v[i] = Integer.parseInt(s[i]);
            }
            workloads.add(new Workload(f[1], f[2], v, f[4]));
        }
        byte[] k = table(dir, "keys", 0);
        keys = Integer.parseInt(fact("keys")[2]);
        keyLen = Integer.parseInt(fact("keys")[3]);
        byte[] miss = table(dir, "miss", keyLen), put = table(dir, "put_keys", keyLen), ord = table(dir, "order", 4);
        missKeys = miss.length / keyLen;
        putKeys = put.length / keyLen;
        if (ord.length != 4 * keys) throw new IllegalStateException("order.u32 does not hold one u32 per key");
        ByteBuffer ob = ByteBuffer.wrap(ord).order(ByteOrder.LITTLE_ENDIAN);
        order = new int[keys];
        for (int i = 0; i < keys; i++) {
            order[i] = ob.getInt(4 * i);
            if (order[i] < 0 || order[i] >= keys) throw new IllegalStateException("order.u32[" + i + "] is not a key index");
        }
        valLen = Integer.parseInt(fact("value_length")[1]);
        bytesKey = fact("bytes_key")[1];
        for (Workload w : workloads) {
            if (w.name.equals("scan/dir:upcall")) scanRecords = Integer.parseInt(w.ops);
            if (w.name.equals("batch")) for (int v : w.values) maxBatch = Math.max(maxBatch, v);
        }
        keyBytes = copy(k);
        missBytes = copy(miss);
        putKeyBytes = copy(put);
        orderPacked = direct((keys + maxBatch) * keyLen);
        for (int i = 0; i < keys + maxBatch; i++) orderPacked.put(i * keyLen, k, order[i % keys] * keyLen, keyLen);

        // FNV-1a 64 over keys, order (re-encoded as u32le from what was parsed), miss and put keys.
        byte[] le = new byte[4 * keys];
        ByteBuffer lb = ByteBuffer.wrap(le).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < keys; i++) lb.putInt(4 * i, order[i]);
        long h = 0xcbf29ce484222325L;
        for (byte[] t : new byte[][] {k, le, miss, put})
            for (byte b : t) h = (h ^ (b & 0xff)) * 0x100000001b3L;
        checksum = String.format("fnv1a64:%016x", h);
    }

    /** The key of the record holding n bytes (manifest: bytes_key), in a direct buffer. */
    static ByteBuffer bytesKey(int n) {
        return copy(bytesKey.replace("%u", Integer.toString(n)).getBytes(StandardCharsets.US_ASCII));
    }

    /** The value every put writes: value_length bytes of 0x5a. */
    static ByteBuffer putValue() {
        ByteBuffer b = direct(valLen);
        for (int i = 0; i < valLen; i++) b.put(i, (byte) 0x5a);
        return b;
    }
}
