// A stand-in for the part of IS 7.1's config tool a $env{} value goes through, copied in
// behaviour from wso2/config-mapper v1.0.22 (the version IS 7.1.0 ships) and carbon-kernel
// v4.10.42's templates. Not IS itself; it says so in every test that uses it.
//
// 1. ReferenceResolver.resolveStringWithEnvVarPlaceholders: for each $env{NAME} in the TOML
//    value, value = value.replaceAll(Pattern.quote("$env{NAME}"), System.getenv(NAME)): the
//    environment value is a replaceAll *replacement*, where $ and \ are special.
// 2. ReferenceResolver.resolveConfigReferences (runs after the env step): a $ref{key} left in
//    the value is resolved against other config keys; here, any $ref{ fails, as an unknown key does.
// 3. JinjaParser: Jinjava 2.6.0 without autoescape writes the value verbatim into the template,
//    user-mgt.xml.j2 line 24 `<Password>{{super_admin.password}}</Password>` (element text) and
//    catalina-server.xml.j2's `certificateKeystorePassword="{{...}}"` (an attribute).
// 4. IS parses the XML (DocumentBuilder) and reads the text / the attribute.
//
// Usage: java ConfigMapperStandIn.java '<toml value>'; prints the element text and the attribute
// value as hex of their UTF-8 bytes (independent of the locale), space-separated; exits 1 with
// the error IS would log.
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;

public class ConfigMapperStandIn {
    public static void main(String[] args) throws Exception {
        String value = args[0];
        Matcher m = Pattern.compile("\\$env\\{([^}]*)\\}").matcher(args[0]);
        while (m.find()) {
            String resolved = System.getenv(m.group(1));
            if (resolved == null) {
                System.err.println("Environment variable " + m.group(1) + " not defined in system");
                System.exit(1);
            }
            value = value.replaceAll(Pattern.quote("$env{" + m.group(1) + "}"), resolved);
        }
        if (value.contains("$ref{")) {
            System.err.println("Configuration with key " + value.substring(value.indexOf("$ref{")) + " doesn't exist");
            System.exit(1);
        }
        String xml = "<UserManager><AdminUser><Password>" + value + "</Password></AdminUser>"
                + "<Certificate certificateKeystorePassword=\"" + value + "\"/></UserManager>";
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
        String text = doc.getElementsByTagName("Password").item(0).getTextContent();
        String attribute = ((org.w3c.dom.Element) doc.getElementsByTagName("Certificate").item(0))
                .getAttribute("certificateKeystorePassword");
        System.out.print(hex(text) + " " + hex(attribute));
    }

    private static String hex(String s) {
        StringBuilder out = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) out.append(String.format("%02x", b));
        return out.toString();
    }
}
