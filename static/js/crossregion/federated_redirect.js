// Posts the federation token to the host platform at once (templates/crossregion/federated_redirect.html).
// The form is also a button, for a browser without JavaScript.
document.getElementById("federated-redirect")?.submit();
