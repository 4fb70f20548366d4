// Starts Swagger UI on /docs. A file, not an inline script: the page's CSP allows
// scripts from the app only. The OpenAPI URL comes from the page's data attributes.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    // No call to the public validator service: the docs work without internet.
    validatorUrl: null,
    oauth2RedirectUrl: window.location.origin + root.dataset.oauth2RedirectUrl,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
});
