// The cluster's signing keystore for IS pods: a PKCS#12 from the PEM key and certificate of the
// cluster secret, and a copy of IS's client truststore that also trusts that certificate. Runs
// in an init container on the IS image's own JDK as a single-file program
// (`java BuildKeystores.java`, JEP 330): the image has keytool but no openssl, and keytool
// cannot read a PEM key. The VM nodes do the same with openssl and keytool (fetch-secrets.sh).
//
// Environment: SIGNING_KEY_FILE (PKCS#8 PEM), SIGNING_CERT_FILE (PEM), SIGNING_PASSWORD_FILE,
// SIGNING_ALIAS, SIGNING_KEYSTORE (output path), TRUSTSTORE_IN and TRUSTSTORE_OUT (optional),
// TRUSTSTORE_PASSWORD (IS's published default, wso2carbon, when unset). Secrets come from
// files, never argv or the log.
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;

public class BuildKeystores {
    public static void main(String[] args) throws Exception {
        // PKCS#8 PEM: the base64 body between the BEGIN and END lines.
        String body = Files.readString(Path.of(env("SIGNING_KEY_FILE"))).replaceAll("-----[A-Z0-9 ]+-----", "");
        PrivateKey key = null;
        try {
            key = KeyFactory.getInstance("RSA")
                    .generatePrivate(new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(body)));
        } catch (IllegalArgumentException | java.security.spec.InvalidKeySpecException e) {
            fail("SIGNING_KEY_FILE is not a PKCS#8 PEM RSA private key");
        }
        Certificate[] chain;
        try (InputStream in = Files.newInputStream(Path.of(env("SIGNING_CERT_FILE")))) {
            chain = CertificateFactory.getInstance("X.509").generateCertificates(in).toArray(new Certificate[0]);
        }
        if (chain.length == 0) fail("SIGNING_CERT_FILE holds no certificate");
        if (!chain[0].getPublicKey().equals(KeyFactory.getInstance("RSA").generatePublic(
                new java.security.spec.RSAPublicKeySpec(((java.security.interfaces.RSAPrivateCrtKey) key).getModulus(),
                        ((java.security.interfaces.RSAPrivateCrtKey) key).getPublicExponent())))) {
            fail("SIGNING_CERT_FILE does not belong to SIGNING_KEY_FILE");
        }
        char[] password = Files.readString(Path.of(env("SIGNING_PASSWORD_FILE"))).toCharArray();
        String alias = env("SIGNING_ALIAS");

        KeyStore keystore = KeyStore.getInstance("PKCS12");
        keystore.load(null, null);
        keystore.setKeyEntry(alias, key, password, chain);
        store(keystore, Path.of(env("SIGNING_KEYSTORE")), password);

        String in = System.getenv("TRUSTSTORE_IN");
        if (in != null && !in.isEmpty()) {
            String given = System.getenv("TRUSTSTORE_PASSWORD");
            char[] storepass = (given == null || given.isEmpty() ? "wso2carbon" : given).toCharArray();
            KeyStore truststore = KeyStore.getInstance("PKCS12");
            try (InputStream s = Files.newInputStream(Path.of(in))) {
                truststore.load(s, storepass);
            }
            truststore.setCertificateEntry(alias, chain[0]);
            store(truststore, Path.of(env("TRUSTSTORE_OUT")), storepass);
        }
    }

    private static void store(KeyStore keystore, Path path, char[] password) throws Exception {
        Path tmp = Files.createTempFile(path.toAbsolutePath().getParent(), ".keystore", ".tmp");
        try (OutputStream out = Files.newOutputStream(tmp)) {
            keystore.store(out, password);
        }
        Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        System.err.println("build-keystores: wrote " + path);
    }

    private static String env(String name) {
        String value = System.getenv(name);
        if (value == null || value.isEmpty()) fail(name + " is not set");
        return value;
    }

    private static void fail(String message) {
        System.err.println("build-keystores: error: " + message);
        System.exit(1);
    }
}
