package dev.rlhf.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates made by {@code infra/cluster/make-test-certs.sh} (so the tests also check the script operators
 * use): a test CA and one PKCS12 key store per node, naming localhost and 127.0.0.1.
 */
record TestCertificates(Path dir) {
    /** The password of every store the script writes. */
    static final String PASSWORD = "test-password";
    private static final Path SCRIPT = Path.of("..", "infra", "cluster", "make-test-certs.sh");

    /** Makes a CA and a key store for each of {@code nodes} in {@code dir}. */
    static TestCertificates make(Path dir, String... nodes) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString(), dir.toString()));
        command.addAll(List.of(nodes));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("KEYTOOL", Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        builder.environment().put("CERT_PASSWORD", PASSWORD);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(2, TimeUnit.MINUTES) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException("make-test-certs.sh failed:\n" + output);
        }
        return new TestCertificates(dir);
    }

    Path keyStore(String node) {
        return dir.resolve(node + ".p12");
    }

    Path trustStore() {
        return dir.resolve("truststore.p12");
    }
}
