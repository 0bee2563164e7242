relay  = "relay.lab.example"
unused = "set for another suite"
