// Flowgen's GraphiQL page (flowgen_runtime/graphql/graphiql.py): mounts the vendored
// GraphiQL with the explorer plugin. Settings come from the page's JSON script tag; the
// page's CSP allows no inline script, hence this file.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("flowgen-graphiql-config").textContent);
  var endpoint = new URL(location.pathname, location.href);
  var ws = (location.protocol === "https:" ? "wss:" : "ws:") + "//" + location.host + endpoint.pathname;
  // HTTP for queries and mutations; graphql-ws on the same path for subscriptions, with
  // the headers of the Headers editor (the token) as its connection parameters.
  var fetcher = GraphiQL.createFetcher({ url: endpoint.href, subscriptionUrl: ws });
  var explorer = GraphiQLPluginExplorer.explorerPlugin();
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      visiblePlugin: explorer,
      defaultQuery: config.query,
      defaultHeaders: "{}",
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
    })
  );
})();
