"""The prepared dataset (arrays + its class set), class weights, and device-resident splits."""
