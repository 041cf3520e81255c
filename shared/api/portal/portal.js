placeholder: the portal UI lands here
