// Stand-in for Tomcat JULI's log manager, which the real bin/wso2server.sh names in
// -Djava.util.logging.manager (IS ships it in lib/); the JDK's own manager is enough here.
package org.apache.juli;

public class ClassLoaderLogManager extends java.util.logging.LogManager {}
