// Stand-in for WSO2 Identity Server in the boot test (test/boot/): the real bin/wso2server.sh
// (carbon-kernel v4.10.42) starts the class it always starts, org.wso2.carbon.bootstrap.Bootstrap,
// with the node's JVM options; this one serves only the health-check API on 9443 with the TLS
// keystore the node built (deployment.toml [keystore.tls], its password from the environment as
// IS reads $env{...}), after loading the signing keystore ([keystore.primary]) the same way. It
// checks the JDBC driver is in repository/components/lib and exits on SIGTERM like IS (143).
package org.wso2.carbon.bootstrap;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

public final class Bootstrap {
    private static final String HEALTH = "/api/health-check/v1.0/health";

    public static void main(String[] args) throws Exception {
        Path home = Path.of(System.getProperty("carbon.home"));
        Map<String, Map<String, String>> toml = readToml(home.resolve("repository/conf/deployment.toml"));
        Path security = home.resolve("repository/resources/security");

        KeyStore signing = load(security, toml, "keystore.primary");
        KeyStore tls = load(security, toml, "keystore.tls");
        Map<String, String> t = toml.get("keystore.tls");
        String alias = t.get("alias");
        if (!tls.isKeyEntry(alias)) throw new IllegalStateException("keystore.tls has no key entry " + alias);

        try (var lib = Files.list(home.resolve("repository/components/lib"))) {
            if (lib.noneMatch(p -> p.getFileName().toString().startsWith("mysql-connector-j-")))
                throw new IllegalStateException("no mysql-connector-j jar in repository/components/lib");
        }

        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(tls, resolve(t.get("key_password")).toCharArray());
        SSLContext ssl = SSLContext.getInstance("TLS");
        ssl.init(kmf.getKeyManagers(), null, null);
        HttpsServer server = HttpsServer.create(new InetSocketAddress(9443), 50);
        server.setHttpsConfigurator(new HttpsConfigurator(ssl));
        server.createContext("/", exchange -> {
            boolean ok = HEALTH.equals(exchange.getRequestURI().getPath());
            byte[] body = (ok ? "{\"health\":[{\"key\":\"stand-in\",\"value\":\"ok\"}]}" : "{}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(ok ? 200 : 404, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        Files.writeString(home.resolve("wso2carbon.pid"), Long.toString(ProcessHandle.current().pid()));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("[stand-in IS] stopping");
            server.stop(0);
        }));
        System.out.printf("[stand-in IS] WSO2 Carbon started: https 9443 (%s, alias %s), signing keystore %d entries,"
                + " max heap %d MB%n", t.get("file_name"), alias, signing.size(),
                Runtime.getRuntime().maxMemory() >> 20);
        Thread.currentThread().join();
    }

    private static KeyStore load(Path dir, Map<String, Map<String, String>> toml, String section) throws Exception {
        Map<String, String> s = toml.get(section);
        if (s == null) throw new IllegalStateException("deployment.toml has no [" + section + "]");
        KeyStore ks = KeyStore.getInstance(s.getOrDefault("type", "PKCS12"));
        try (InputStream in = new FileInputStream(dir.resolve(s.get("file_name")).toFile())) {
            ks.load(in, resolve(s.get("password")).toCharArray());
        }
        return ks;
    }

    // $env{NAME} as IS resolves it, then XML character references (fetch-secrets.sh writes
    // values in the form IS's XML templates need).
    private static String resolve(String value) {
        Matcher env = Pattern.compile("^\\$env\\{([A-Za-z0-9_]+)\\}$").matcher(value);
        if (env.matches()) {
            value = System.getenv(env.group(1));
            if (value == null) throw new IllegalStateException("environment variable " + env.group(1) + " is not set");
        }
        Matcher ref = Pattern.compile("&#([0-9]+);").matcher(value);
        StringBuilder out = new StringBuilder();
        while (ref.find()) ref.appendReplacement(out, Matcher.quoteReplacement(
                new String(Character.toChars(Integer.parseInt(ref.group(1))))));
        ref.appendTail(out);
        return out.toString();
    }

    // Enough TOML for deployment.toml's flat sections: [a.b] headers and key = "string" lines.
    private static Map<String, Map<String, String>> readToml(Path file) throws Exception {
        Map<String, Map<String, String>> sections = new HashMap<>();
        Map<String, String> current = new HashMap<>();
        Pattern header = Pattern.compile("^\\s*\\[([^\\]]+)\\]\\s*$");
        Pattern kv = Pattern.compile("^\\s*([A-Za-z0-9_.]+)\\s*=\\s*\"(.*)\"\\s*$");
        for (String line : Files.readAllLines(file)) {
            Matcher h = header.matcher(line);
            Matcher m = kv.matcher(line);
            if (h.matches()) {
                current = new HashMap<>();
                sections.put(h.group(1).trim(), current);
            } else if (m.matches()) {
                current.put(m.group(1), m.group(2));
            }
        }
        return sections;
    }
}
