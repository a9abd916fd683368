import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Starts AWS's DynamoDB Local listening on 127.0.0.1 only, on an ephemeral port.
 *
 * DynamoDB Local has no bind-address option: its DynamoDBProxyServer builds a Jetty Server(port),
 * whose connector listens on every interface. This launcher builds the server exactly as DynamoDB
 * Local's own command line does (ServerRunner.createServerFromCommandLineArgs, the documented entry
 * point for embedding it), then, before start, sets that connector's host to 127.0.0.1 and its port
 * to 0 (Jetty's public ServerConnector API). Nothing of DynamoDB Local is changed or copied.
 *
 * Protocol with the Node side (toolkit/local-cloud/dynamodb-local.ts):
 *  - arguments are DynamoDB Local's own (-inMemory -disableTelemetry ...), without -port;
 *  - once listening it prints one line "LISTENING 127.0.0.1:<port>" on stdout;
 *  - it stops when its stdin ends (the parent closed it, or died), so it cannot outlive its parent.
 */
public final class LoopbackDynamoDBLocal {
    public static void main(String[] args) throws Exception {
        // DynamoDB Local refuses -port 0; 8000 only satisfies its parser and is never bound (see below).
        String[] withPort = new String[args.length + 2];
        System.arraycopy(args, 0, withPort, 0, args.length);
        withPort[args.length] = "-port";
        withPort[args.length + 1] = "8000";
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(withPort);
        if (proxy == null) throw new IllegalStateException("DynamoDB Local refused its arguments");

        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server jetty = (Server) field.get(proxy);
        Connector[] connectors = jetty.getConnectors();
        if (connectors.length != 1 || !(connectors[0] instanceof ServerConnector)) {
            throw new IllegalStateException("unexpected Jetty connectors: " + connectors.length);
        }
        ServerConnector connector = (ServerConnector) connectors[0];
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        proxy.start();

        System.out.println("LISTENING " + connector.getHost() + ":" + connector.getLocalPort());
        System.out.flush();

        while (System.in.read() != -1) {
            // Nothing is sent on stdin: it is only watched for its end.
        }
        try {
            proxy.stop();
        } finally {
            System.exit(0);
        }
    }
}
